from nnpuzzles.hopfield import score_table


def test_score_table_ties_share_the_average_rank():
    # a and b tie on "x" (ranks 1.5 each), c is last; on "y" b wins, a second, c third
    scores = {"x": {"a": [0.9, 1.0], "b": [1.0, 0.9], "c": [0.5, 0.5]},
              "y": {"a": [0.8, 0.8], "b": [0.9, 0.9], "c": [0.1, 0.1]}}
    lines = score_table(scores).splitlines()
    assert lines[2].startswith("b") and lines[2].endswith("1.25")
    assert lines[3].startswith("a") and lines[3].endswith("1.75")
    assert lines[4].startswith("c") and lines[4].endswith("3.00")
