"""The window, sign-in, lock screen, first start and the worker that runs database calls off the GUI thread."""
