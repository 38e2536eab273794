import os

# The CLI's consoles fix their size at import when COLUMNS or LINES is set, and pytest-xdist's
# workers start with them set: unset them before anything imports the CLI. Each test
# sets its own COLUMNS (conftest's _isolated_env).
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)
