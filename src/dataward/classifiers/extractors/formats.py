"""The extractors of the wider formats a school share holds: presentations, OpenDocument,
RTF, legacy Office, archives and photos (registered into ``EXTRACTORS``)."""
from __future__ import annotations

from collections.abc import Callable

from .archive import extract_7z, extract_zip
from .base import Extracted
from .image import extract_image
from .legacy import extract_doc, extract_ole, extract_rtf, extract_xls
from .opendocument import extract_odp, extract_ods, extract_odt, extract_pptx



FORMAT_EXTRACTORS: dict[str, Callable[[bytes], Extracted]] = {
    "pptx": extract_pptx, "odt": extract_odt, "ods": extract_ods, "odp": extract_odp,
    "rtf": extract_rtf, "xls": extract_xls, "doc": extract_doc, "ole": extract_ole,
    "zip": extract_zip, "7z": extract_7z,
    "jpeg": extract_image, "png": extract_image, "tiff": extract_image, "heic": extract_image,
}
