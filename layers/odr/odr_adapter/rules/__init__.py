"""The district's rules: screening, routing, deadlines and the decision engine that combines them."""
