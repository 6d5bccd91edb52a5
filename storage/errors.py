"""The few storage errors a caller is expected to handle."""


class StorageError(Exception):
    """Base class of storage errors."""


class NotFound(StorageError):
    """The user, character or message to change does not exist."""


class ShareCodeTaken(StorageError):
    """Another character already uses this share code; pick a new one."""
