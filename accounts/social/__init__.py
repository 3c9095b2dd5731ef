"""Social sign-in: provider protocols (allauth's) in `protocol`, the account writes in `services`."""
