"""CSV that a spreadsheet cannot run: a text cell starting like a formula gets a leading '.

Submissions with such text are refused at check (pipeline/reading.py), so the
published tables hold none; this is the second wall, for every CSV the portal
streams, custom SQL included (a crafted link `?sql=select '=HYPERLINK(...)'`
must not hand Excel a formula). The usual rule: a cell beginning with = + - @,
a tab or a carriage return (or their full-width forms) is prefixed with ',
unless the whole cell is a plain number, so -5 and 1e3 stay numbers.

CsvDefuser works on the stream as it goes, chunk by chunk, so an export of any
size is never held in memory. Only a field that starts with a trigger has to be
held until it ends (to tell -5 from -cmd); a chunk without quotes in which no
field starts with a trigger passes through untouched, which is the common case.
"""

import codecs
import re

from .words import EXPORTS

TRIGGERS = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
TRIGGER_AT_FIELD_START = re.compile(r"(?:^|[,\n])[" + re.escape(TRIGGERS) + "]")
DELIMITERS = ",\r\n"
CUT_SHORT = "# " + EXPORTS["cut_short"]


def needs_prefix(value):
    return value[:1] in TRIGGERS and not NUMBER.fullmatch(value)


def defuse_field(value, quoted):
    if needs_prefix(value):
        value = "'" + value
    if quoted:
        return '"' + value.replace('"', '""') + '"'
    return value


class CsvDefuser:
    """feed(bytes) -> bytes; close() -> bytes. UTF-8 in, UTF-8 out.

    States: start (at a field's start), pass (inside an unquoted field that does not
    start with a trigger: copied through), hold (inside an unquoted field that does:
    kept until it ends), quoted, quote_seen (a quote inside a quoted field: an
    escaped quote or the field's end).
    """

    def __init__(self):
        self.decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.state = "start"
        self.field = []
        self.last = ""  # the last character that went out: a finished CSV ends a line

    def feed(self, data):
        out = self.process(self.decoder.decode(data))
        self.last = out[-1:] or self.last
        return out.encode("utf-8")

    def close(self):
        out = self.process(self.decoder.decode(b"", final=True))
        if self.state == "hold":
            out += defuse_field("".join(self.field), False)
        elif self.state in ("quoted", "quote_seen"):
            out += defuse_field("".join(self.field), True)
        self.state, self.field = "start", []
        self.last = out[-1:] or self.last
        if self.last and self.last != "\n":
            # Datasette ends a stream cut by an error with the error's text and no line end:
            # the file is incomplete, and says so where its reader will look.
            out += "\r\n" + CUT_SHORT + "\r\n"
        return out.encode("utf-8")

    def process(self, text):
        if not text:
            return ""
        if self.state in ("start", "pass") and '"' not in text:
            probe = text if self.state == "start" else "x" + text  # "x": not a field start
            if not TRIGGER_AT_FIELD_START.search(probe):
                self.state = "start" if text[-1] in DELIMITERS else "pass"
                return text
        return self.run(text)

    def run(self, text):
        out = []
        append = out.append
        for ch in text:
            state = self.state
            if state == "start":
                if ch == '"':
                    self.state, self.field = "quoted", []
                elif ch in DELIMITERS:
                    append(ch)
                elif ch in TRIGGERS:
                    self.state, self.field = "hold", [ch]
                else:
                    self.state = "pass"
                    append(ch)
            elif state == "pass":
                append(ch)
                if ch in DELIMITERS:
                    self.state = "start"
            elif state == "hold":
                if ch in DELIMITERS:
                    append(defuse_field("".join(self.field), False) + ch)
                    self.state = "start"
                else:
                    self.field.append(ch)
            elif state == "quoted":
                if ch == '"':
                    self.state = "quote_seen"
                else:
                    self.field.append(ch)
            elif ch == '"':  # quote_seen, then a quote: an escaped quote
                self.field.append('"')
                self.state = "quoted"
            else:  # quote_seen, then anything else: the quoted field has ended
                append(defuse_field("".join(self.field), True))
                if ch in DELIMITERS:
                    append(ch)
                    self.state = "start"
                else:  # not valid CSV; keep the character
                    append(ch)
                    self.state = "pass"
        return "".join(out)


def defuse(data):
    """The whole of a CSV text, made safe (for tests and small responses)."""
    defuser = CsvDefuser()
    return defuser.feed(data) + defuser.close()
