"""Save an openpyxl workbook so that the same content always gives the same bytes.

openpyxl stamps the save time into docProps/core.xml and into each zip entry;
committed templates and sample files would then change on every run.
"""

import datetime
import io
import re
import zipfile

FIXED_ZIP_TIME = (2017, 11, 30, 0, 0, 0)
FIXED_STAMP = "2017-11-30T00:00:00Z"
MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def save_reproducibly(workbook, path):
    workbook.properties.created = datetime.datetime(*FIXED_ZIP_TIME)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in sorted(src.infolist(), key=lambda i: i.filename):
            content = src.read(item.filename)
            if item.filename == "docProps/core.xml":
                content = MODIFIED.sub(rb"\g<1>" + FIXED_STAMP.encode() + rb"\g<2>", content)
            info = zipfile.ZipInfo(item.filename, FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            dst.writestr(info, content)
