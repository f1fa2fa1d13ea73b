"""In-memory records of accepted messages: the state query_sm, cancel_sm and receipts read."""
