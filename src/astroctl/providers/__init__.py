"""The provider capability: the packages a release pins, how they changed, what is newer.

- :mod:`listing`: a release's packages with what the matrix knows about each (``providers
  list``), and the classified changes between two releases (``providers diff``).
- :mod:`outdated`: the newest compatible version of each package on a package index.
- :mod:`update`: a plan writing those versions into an unreleased entry, and its one writer.

Pure apart from the index seam: nothing here prints, exits or imports the CLI.
"""
