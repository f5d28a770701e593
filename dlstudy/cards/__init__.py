"""Cards and their schedule: decks, the review history, FSRS scheduling, quiz sessions, statistics."""
