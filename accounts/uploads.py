"""An upload handler that keeps one named file, at most a limit's worth of it, in memory."""

from io import BytesIO

from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler


class BoundedUploadHandler(FileUploadHandler):
    """Keeps the first `limit + 1` bytes of the first file in `field` and drops everything else as it arrives.

    Django's default handlers would spool files of any size and number to disk. The size of the
    kept file is still its true size, so the caller can refuse it as too large by what was sent.
    """

    def __init__(self, request=None, *, field: str, limit: int):
        super().__init__(request)
        self.field = field
        self.limit = limit
        self.kept = False
        self.buffer: BytesIO | None = None

    def new_file(self, field_name, *args, **kwargs) -> None:
        super().new_file(field_name, *args, **kwargs)
        self.buffer = BytesIO() if field_name == self.field and not self.kept else None
        self.kept = self.kept or self.buffer is not None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        if self.buffer is not None and (room := self.limit + 1 - self.buffer.tell()) > 0:
            self.buffer.write(raw_data[:room])
        # None: no other handler sees the chunk.

    def file_complete(self, file_size: int) -> InMemoryUploadedFile | None:
        if self.buffer is None:
            return None  # not kept: the request has no such file
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            self.buffer,
            self.field_name,
            self.file_name,
            self.content_type,
            file_size,
            self.charset,
            self.content_type_extra,
        )
