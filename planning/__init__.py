"""The domain: proposals, centres and hubs, districts, linking, demo data, CLI."""
