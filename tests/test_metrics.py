"""Ranking and beyond-accuracy metrics against values computed by hand."""

from __future__ import annotations

import math

import pytest
import torch

from rlrec.metrics.beyond import intra_list_diversity, item_coverage_at_k, novelty
from rlrec.metrics.ranking import (
    hit_rate_at_k,
    mrr_at_k,
    ndcg_at_k,
    pessimistic_ranks,
    precision_at_k,
    recall_at_k,
    target_ranks,
)
from rlrec.metrics.torchmetrics import ItemCoverage, RankingMetrics

SCORES = torch.tensor([[0.1, 0.9, 0.5, 0.3]])  # ranking: item 1, 2, 3, 0


def test_target_at_rank_two():
    target = torch.tensor([2])
    assert target_ranks(SCORES, target).tolist() == [2]
    assert hit_rate_at_k(SCORES, target, 1).tolist() == [0.0]
    assert hit_rate_at_k(SCORES, target, 2).tolist() == [1.0]
    assert ndcg_at_k(SCORES, target, 2).item() == pytest.approx(1 / math.log2(3))
    assert ndcg_at_k(SCORES, target, 1).item() == 0.0
    assert mrr_at_k(SCORES, target, 2).item() == pytest.approx(0.5)
    assert mrr_at_k(SCORES, target, 1).item() == 0.0
    assert precision_at_k(SCORES, target, 2).item() == pytest.approx(0.5)
    assert recall_at_k(SCORES, target, 2).item() == 1.0
    assert recall_at_k(SCORES, target, 1).item() == 0.0


def test_batch_gives_one_value_per_user():
    scores = torch.tensor([[0.1, 0.9, 0.5, 0.3], [0.4, 0.3, 0.2, 0.1]])
    targets = torch.tensor([0, 0])  # ranks 4 and 1
    assert target_ranks(scores, targets).tolist() == [4, 1]
    assert hit_rate_at_k(scores, targets, 3).tolist() == [0.0, 1.0]
    assert ndcg_at_k(scores, targets, 4).tolist() == pytest.approx([1 / math.log2(5), 1.0])
    assert mrr_at_k(scores, targets, 4).tolist() == pytest.approx([0.25, 1.0])


def test_ties_rank_the_target_last_among_equals():
    scores = torch.tensor([[0.5, 0.5, 0.5, 0.1]])
    for target in (0, 1, 2):  # every tied item gets the pessimistic rank 3, whatever its id
        assert target_ranks(scores, torch.tensor([target])).tolist() == [3]
    assert hit_rate_at_k(scores, torch.tensor([0]), 2).item() == 0.0
    assert hit_rate_at_k(scores, torch.tensor([0]), 3).item() == 1.0
    assert ndcg_at_k(scores, torch.tensor([1]), 3).item() == pytest.approx(0.5)  # 1/log2(4)
    assert pessimistic_ranks(scores).tolist() == [[3, 3, 3, 4]]


def test_constant_scores_never_hit_below_the_catalogue_size():
    scores = torch.zeros(5, 8)
    targets = torch.arange(5)
    assert hit_rate_at_k(scores, targets, 7).sum().item() == 0.0
    assert hit_rate_at_k(scores, targets, 8).sum().item() == 5.0


def test_k_larger_than_the_catalogue_is_clamped():
    target = torch.tensor([0])  # the worst-ranked item
    assert hit_rate_at_k(SCORES, target, 10).item() == 1.0
    assert precision_at_k(SCORES, target, 10).item() == pytest.approx(1 / 4)  # hits / min(K, n_items)
    assert ndcg_at_k(SCORES, target, 10).item() == pytest.approx(1 / math.log2(5))
    with pytest.raises(ValueError, match="k must be >= 1"):
        hit_rate_at_k(SCORES, target, 0)


def test_seen_items_are_masked_but_never_the_target():
    target = torch.tensor([2])
    seen = torch.tensor([[False, True, False, False]])  # item 1 scored highest but was seen
    assert target_ranks(SCORES, target, seen).tolist() == [1]
    assert hit_rate_at_k(SCORES, target, 1, seen).item() == 1.0
    seen_with_target = torch.tensor([[False, True, True, False]])
    assert target_ranks(SCORES, target, seen_with_target).tolist() == [1]
    # a masked item falls below every unmasked one
    assert target_ranks(SCORES, torch.tensor([0]), seen).tolist() == [3]


def test_multi_hot_precision_and_recall():
    relevant = torch.tensor([[0, 1, 1, 0]])
    assert precision_at_k(SCORES, relevant, 2).item() == 1.0
    assert recall_at_k(SCORES, relevant, 2).item() == 1.0
    assert precision_at_k(SCORES, relevant, 1).item() == 1.0
    assert recall_at_k(SCORES, relevant, 1).item() == 0.5
    assert precision_at_k(SCORES, relevant, 3).item() == pytest.approx(2 / 3)
    seen = torch.tensor([[False, True, False, True]])  # relevant item 1 stays; item 3 is masked
    assert recall_at_k(SCORES, relevant, 2, seen).item() == 1.0
    nobody = torch.zeros(1, 4, dtype=torch.long)
    assert recall_at_k(SCORES, nobody, 2).item() == 0.0
    with pytest.raises(ValueError, match="multi-hot"):
        recall_at_k(SCORES, torch.zeros(1, 3), 2)


def test_torchmetrics_class_merges_chunks_like_the_functions():
    generator = torch.Generator().manual_seed(0)
    scores = torch.randn(50, 30, generator=generator).round(decimals=1)  # rounding makes ties
    targets = torch.randint(0, 30, (50,), generator=generator)
    seen = torch.rand(50, 30, generator=generator) < 0.2
    metric = RankingMetrics(k=5)
    metric.update(scores[:20], targets[:20], seen[:20])
    metric.update(scores[20:], targets[20:], seen[20:])
    result = metric.compute()
    assert set(result) == {"hr@5", "ndcg@5", "mrr@5", "precision@5", "recall@5"}
    assert result["hr@5"].item() == pytest.approx(hit_rate_at_k(scores, targets, 5, seen).mean().item())
    assert result["ndcg@5"].item() == pytest.approx(ndcg_at_k(scores, targets, 5, seen).mean().item())
    assert result["mrr@5"].item() == pytest.approx(mrr_at_k(scores, targets, 5, seen).mean().item())
    assert result["precision@5"].item() == pytest.approx(
        precision_at_k(scores, targets, 5, seen).mean().item()
    )
    assert result["recall@5"].item() == pytest.approx(recall_at_k(scores, targets, 5, seen).mean().item())
    assert 0 < result["hr@5"].item() < 1


def test_item_coverage():
    slates = torch.tensor([[0, 1], [1, 2]])
    assert item_coverage_at_k(slates, 5).item() == pytest.approx(3 / 5)
    coverage = ItemCoverage(n_items=5)
    coverage.update(slates[:1])
    coverage.update(torch.tensor([[1, 4]]))
    assert coverage.compute().item() == pytest.approx(3 / 5)  # items 0, 1, 4


def test_novelty_is_mean_self_information():
    popularity = torch.tensor([1.0, 1.0, 2.0])  # p = 1/4, 1/4, 1/2
    assert novelty(torch.tensor([[0, 2], [0, 1]]), popularity).tolist() == pytest.approx([1.5, 2.0])
    with pytest.raises(ValueError, match="zero popularity"):
        novelty(torch.tensor([[0, 1]]), torch.tensor([1.0, 0.0]))


def test_intra_list_diversity():
    vectors = torch.tensor([[1.0, 0.0], [0.0, 2.0], [1.0, 1.0]])
    slates = torch.tensor([[0, 1], [0, 2], [0, 1]])
    assert intra_list_diversity(slates, vectors).tolist() == pytest.approx([1.0, 1 - 1 / math.sqrt(2), 1.0])
    three = intra_list_diversity(torch.tensor([[0, 1, 2]]), vectors)
    assert three.item() == pytest.approx(1 - (0 + 2 / math.sqrt(2)) / 3)
    assert intra_list_diversity(torch.tensor([[2, 2]]), vectors).item() == pytest.approx(0.0, abs=1e-6)
