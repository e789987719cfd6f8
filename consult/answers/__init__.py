"""Branch answers to a round: opinions per item, new proposals, history."""
