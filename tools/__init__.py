"""Course tooling: build the package and the release from source/, and edit notebooks as text.

Run the commands as modules from the course folder, e.g. `python -m tools.generate --check`.
`tools.conventions` holds every rule that the tools, the tests and nbgrader_config.py share.
"""
