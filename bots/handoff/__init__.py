"""Human hand-off: the ask-for-a-person detector, the lifecycle, support hours, the webhook."""
