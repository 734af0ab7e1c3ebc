from django.dispatch import Signal

# An automation run failed; sent (``pixee.events.announce``) inside the transaction that marks it
# failed. kwargs: automation, run, error (str).
automation_failed = Signal()
