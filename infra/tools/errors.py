"""The one exception the tools raise for a user's mistake: the CLI prints it in a line, no traceback."""


class UserError(Exception):
    """A mistake the user can fix; the message says how."""
