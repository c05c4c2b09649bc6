"""Use cases of Apuri; they speak to storage only through the ports in `ports`."""
