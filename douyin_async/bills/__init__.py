"""The bill-file API: links, the record and its columns, the CSV reader, the download."""
