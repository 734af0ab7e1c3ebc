from django.dispatch import Signal

# Sent on commit when an automation run fails; kwargs: automation, run, error (str).
automation_failed = Signal()
