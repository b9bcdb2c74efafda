"""``atomic_write(path)``: write a whole file so that the path only ever holds the old content or
the complete new one, for every file tapegrad writes (checkpoints, metrics).

The bytes go to a temporary in the path's folder, created with ``O_CREAT | O_EXCL | O_NOFOLLOW``
under a random name (so nobody can plant a link there for the write to follow, and concurrent
writers never share one), are flushed and fsynced, and the temporary is renamed onto the path
with ``os.replace``; then the folder is fsynced so the rename survives a crash. On any failure,
KeyboardInterrupt included, the temporary is removed and the path keeps its old content.
Concurrent writers to one path (threads or processes) each rename a complete file; the last
rename wins.

A link at the path itself is replaced, not followed, as the ``safetensors`` package's
``save_file`` does (``torch.save`` instead writes in place through the link): a link planted at a
checkpoint's name cannot redirect the write. Links in the folders above are followed as usual.
A new file gets ``0o666 & ~umask``, as ``open()`` would give it; a regular file that is replaced
keeps its permission bits (not its owner, group or hard links: it is a new file).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat

__all__ = ["atomic_write"]

# As tempfile.mkstemp: give up after this many names that already exist.
_TEMPORARY_ATTEMPTS = 100
# Room for the random part and suffix within a file name's 255-byte limit.
_NAME_PREFIX_CHARS = 100


def _create_temporary(folder: str, name: str):
    """(path, fd) of a new file in folder. Not mkstemp: it makes the file 0o600, and only the
    kernel applies the umask without changing it for the whole process."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(_TEMPORARY_ATTEMPTS):
        temporary = os.path.join(folder, f".{name[:_NAME_PREFIX_CHARS]}.{secrets.token_hex(8)}.tmp")
        try:
            return temporary, os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, f"no unused temporary name in {folder}", folder)


def _keep_permissions(path: str, fd: int) -> None:
    try:
        existing = os.lstat(path)
    except FileNotFoundError:
        return
    if stat.S_ISREG(existing.st_mode):
        os.fchmod(fd, stat.S_IMODE(existing.st_mode) & 0o777)


def _fsync_folder(folder: str) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as e:
        # Some file systems (several FUSE and network ones) cannot fsync a folder; the rename
        # itself has happened, so that is no reason to report the write as failed.
        if e.errno not in (errno.EINVAL, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb", encoding: str | None = None):
    """Context manager yielding a file opened with ``mode`` ("wb" or "w"); the path gets its
    content only when the block ends without an exception."""
    if mode not in ("wb", "w"):
        raise ValueError(f"[atomic_write] mode must be 'wb' or 'w', got {mode!r}: a whole file is "
                         "written at once")
    path = os.fspath(path)
    folder, name = os.path.split(os.path.abspath(path))
    temporary, fd = _create_temporary(folder, name)
    try:
        with os.fdopen(fd, mode, encoding=encoding) as f:
            _keep_permissions(path, f.fileno())
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        # An interrupt can land after os.replace has already moved the temporary away.
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    _fsync_folder(folder)
