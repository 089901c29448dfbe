"""An election's setup from its CSV files (docs/import-format.md), as pure Python.

`parse.election_setup_parse` takes the files' bytes and returns the whole
setup or raises `ElectionImportError` with every problem found (file and
line each). Reading the folder and writing the setup to the database are
the service's (tabulation/services/election_setup.py).

- rows.py: the files, their columns, and the rows read from them
- csv_file.py: one file read into rows, with the field parsers
- tables.py: the election, municipalities, stations, lists and candidates
- accounts.py: the accounts and clerks' assignments (clerks.csv)
- parse.py: every file in order, the cross-file checks and the warnings
"""
