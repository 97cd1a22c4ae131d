"""The images of a release: the tags it is published under (:mod:`tags`).

Pure: nothing here prints, exits, runs docker or imports the CLI.
"""
