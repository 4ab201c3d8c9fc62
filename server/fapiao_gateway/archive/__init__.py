"""The archive store: documents kept content-addressed by their SHA-256
(services.ports.ArchiveStore)."""
