"""Orders: the state machine, fulfilment, after-sales, reviews and complaints, store service metrics."""
