"""The synthetic world behind `zerochurn generate`: customers, revenue, surveys, complaints.

generate_world simulates it month by month from a GenerateConfig and WorldParameters;
write_world stores its tables, the true churn probabilities and a description.
"""

from zerochurn.synthetic.output import write_world
from zerochurn.synthetic.parameters import WorldParameters
from zerochurn.synthetic.world import World, generate_world

__all__ = ["World", "WorldParameters", "generate_world", "write_world"]
