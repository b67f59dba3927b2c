"""Writes of the feed app, one module per concern. Import from the module that owns the
function:

- ``social``: follows, blocks, mutes, likes and notifications;
- ``webhooks``: webhook endpoints, and the events and deliveries sent to them.
"""
