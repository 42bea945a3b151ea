//! Ticket codes: signed by the tickets' KMS key, checked against it.
