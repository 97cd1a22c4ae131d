from astroctl.cli import main

main()
