"""Features and batch scores on Apache Spark: the pandas engine's functions on partitions of
customers (docs/spark.md). Needs the `spark` extra: pip install 'zerochurn[spark]'."""

from zerochurn.spark.batch import write_spark_batch
from zerochurn.spark.features import features_spark
from zerochurn.spark.scoring import load_spark_champion, score_spark
from zerochurn.spark.session import spark_session

__all__ = [
    "features_spark",
    "load_spark_champion",
    "score_spark",
    "spark_session",
    "write_spark_batch",
]
