"""What-if: scenarios run over the park's stored history with the twin's rules and maths."""
