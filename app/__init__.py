"""The reco command: the CLI and the demo (the top layer)."""
