"""Live events for GraphQL subscriptions: the hub that fans them out to subscribers in this process,
and the feed that brings it every event the outbox committed, whichever instance committed it."""
