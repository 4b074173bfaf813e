"""MOA documents: read a 287(g) memorandum of agreement (PDF) into its fields."""

# The reader's version: a reading is stored once per (body, version). It lives here, not in read_moa, so
# that the commands that only ask whether a reading exists (run, history, moa search) do not load PDFium.
READER_VERSION = "moa-read-1"
