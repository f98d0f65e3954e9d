"""Reading the exports and staging them: files, encodings, values, quarantine."""
