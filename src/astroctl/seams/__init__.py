"""Every outside world astroctl touches (files, processes, HTTP), and only here."""
