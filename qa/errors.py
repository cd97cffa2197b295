"""The one root of every failure the assistant expects and explains.

The CLI turns a `QAError` into one line and its `exit_code` (2; 1 for a failing store); the web app into one line on the page.
Anything else is a bug and keeps its traceback.
"""


class QAError(Exception):
    """An expected failure with a message fit to show the user as it is."""

    exit_code = 2  # the CLI's exit code: bad input or settings; a failing store says 1 (StoreError)
