"""The only places with side effects: files, processes, the store, systemd, the network."""
