"""What the screens share, kept apart from the screens themselves (app_pages/ holds one file
per screen, named by its id in core/menu.py): sign-in and the role check (access), the
sidebar with the period and meeting mode (sidebar), text and number formatting that shows
whatever came from a file or a person as text (formatting), the list screens' shared parts
(lists), the case forms (case_forms), and the guard that turns an error into a message
(guard)."""
