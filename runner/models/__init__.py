"""The model store: declared files, pulling them verified, and checking them before a launch."""
