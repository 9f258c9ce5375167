"""Finding contraction paths: the order in which a plan multiplies its tensors and sums out their variables.

A contraction's tensors are given by their scopes as bit sets over the network's variables (bit i: variable i, of
size cards[i]); a path is a list of groups of tensor ids, each group multiplied together in order (the inputs are
0 to n - 1, and the result of the k-th group is n + k), and its cost counts operations as opt_einsum counts flops.
A plan (plans.py) asks for its path once, when it is compiled; nothing here knows about networks or cases.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

# How elimination_path picks the next variable to sum out, each measured on the product of the tensors that
# hold it: "size", the smallest product; "work", the smallest product times the number of tensors in it;
# "growth", the least the product exceeds its inputs' sizes. None wins everywhere; the plan takes whichever
# path counts fewest operations. On the 40 plans that do most of the work for a chunk of benchmark cases,
# that ran in 30% less time than opt_einsum's greedy pairwise path, and took half the time to find.
ELIMINATION_RULES = ("size", "work", "growth")
CHEAP_PATH = 20_000
# Compiling a plan, which happens about once per case on the built-in network, searches "growth" first and the
# others only from COMPILE_CHEAP_PATH: alone, "growth" is within 4% of the best of the three there ("size" 9%).
# On the 872 plans of 1,000 cases drawn from the network, the paths cost the same operations (82.5 against 82.6
# million) for 170 plans searched three times instead of 432. Comparing plans (keys.choose_plan_bits, once per
# engine) keeps the first order, whose estimates chose the plan bits and enumerated roots that were measured.
COMPILE_RULES = ("growth", "size", "work")
COMPILE_CHEAP_PATH = 100_000


def cheapest_path(
    masks: list[int], cards: list[int], rules: tuple[str, ...] = ELIMINATION_RULES, cheap: int = CHEAP_PATH
) -> tuple[list[tuple[int, ...]], int]:
    """The path of fewest operations among those elimination_path finds by each of `rules`; when the first
    rule's path costs under `cheap` operations, that one (the others could save at most a fraction of a small
    contraction, and each search costs about as much as running it for a few hundred sub-rows)."""
    sizes: dict[int, int] = {}
    paths = [elimination_path(masks, cards, rules[0], sizes)]
    if paths[0][1] >= cheap:
        paths += [elimination_path(masks, cards, rule, sizes) for rule in rules[1:]]
    return min(paths, key=lambda found: found[1])


def elimination_path(
    masks: list[int], cards: list[int], rule: str, sizes: dict[int, int]
) -> tuple[list[tuple[int, ...]], int]:
    """A contraction path of tensors to one number, summing out one variable at a time, and its operation count.

    `masks` are the tensors' scopes as bit sets (bit i: variable i, of size cards[i]); `sizes` memoises the
    sizes of sets of variables with more than two states. Each round sums out the variable that `rule` scores
    lowest (ties to the lowest bit): its tensors are multiplied together, smallest first, and every variable no
    other tensor holds is summed out on the way. The path lists each group's tensor ids in multiplication order:
    the tensors of `masks` are 0 to n - 1, and the result of the k-th group is n + k. The count is that of the
    pairwise products, as opt_einsum counts flops: the size of each product, twice when something is summed.
    """

    # A set's size is 2 to the number of its two-state variables times the product of the others' sizes: the
    # count of bits is one C call, and the memo holds only the (few) sets of variables with more states.
    binary = sum(1 << i for i, card in enumerate(cards) if card == 2)

    def size(mask: int) -> int:
        other = mask & ~binary
        if not other:
            return 1 << (mask & binary).bit_count()
        known = sizes.get(other)
        if known is None:
            known = sizes[other] = _size(other, cards)
        return known << (mask & binary).bit_count()

    def bits(mask: int) -> list[int]:
        found = []
        while mask:
            low = mask & -mask
            found.append(low)
            mask ^= low
        return found

    tensors = dict(enumerate(masks))  # live tensors by id; a result gets the next id
    holders: dict[int, set[int]] = {}
    for i, mask in tensors.items():
        for v in bits(mask):
            holders.setdefault(v, set()).add(i)

    tensor_size = {i: size(mask) for i, mask in tensors.items()}

    def score(v: int) -> tuple[int, int, int]:
        ids = holders[v]
        product = 0
        for i in ids:
            product |= tensors[i]
        n = size(product)
        if rule == "size":
            return n, len(ids), v
        if rule == "work":
            return n * len(ids), len(ids), v
        return n - sum([tensor_size[i] for i in ids]), n, v

    scores = {v: score(v) for v in holders}
    # The lowest score by a heap: a scan of every score each round took a fifth of building pigs' engine. A
    # variable re-scored leaves its old entry behind, skipped when popped; scores end in the variable, so no
    # two variables tie and the order is that of the scan.
    heap = list(scores.values())
    heapq.heapify(heap)
    groups: list[tuple[int, ...]] = []
    cost = 0
    while scores:
        entry = heapq.heappop(heap)
        v = entry[-1]
        if scores.get(v) != entry:
            continue
        members = holders[v]
        group = sorted(members, key=lambda i: (tensor_size[i], i))
        chosen = [tensors.pop(i) for i in group]
        for i in group:
            del tensor_size[i]
        touched = 0
        for m in chosen:
            touched |= m
        # the variables of the group that a tensor outside it still holds
        touched_bits = bits(touched)
        kept = 0
        for u in touched_bits:
            if not holders[u] <= members:
                kept |= u
        acc, spent = _multiplied(chosen, kept, size)
        cost += spent
        result = len(masks) + len(groups)
        tensors[result], tensor_size[result] = acc, size(acc)
        groups.append(tuple(group))
        for u in touched_bits:
            held = holders[u]
            held.difference_update(group)
            if acc & u:
                held.add(result)
            elif not held:
                del holders[u], scores[u]
        for u in bits(acc):
            scores[u] = score(u)
            heapq.heappush(heap, scores[u])
    if len(tensors) > 1:  # numbers left over: multiply them together
        groups.append(tuple(sorted(tensors)))
        cost += len(tensors) - 1
    return groups, cost


def _size(mask: int, cards: list[int]) -> int:
    """The number of entries of a tensor over the variables of bit set `mask` (bit i: variable i, of size cards[i])."""
    found = 1
    while mask:
        low = mask & -mask
        found *= cards[low.bit_length() - 1]
        mask ^= low
    return found


def _multiplied(chosen: list[int], kept: int, size: Callable[[int], int]) -> tuple[int, int]:
    """Tensors of these scopes multiplied together in order, every variable summed out as soon as neither `kept`
    (the variables held outside the group) nor a later tensor of the group holds it: the result's scope and
    the operation count, as elimination_path counts it."""
    acc, cost = chosen[0], 0
    if len(chosen) == 1:
        cost += size(acc) * (2 if acc & ~kept else 1)
        acc &= kept
    for k in range(1, len(chosen)):
        later = kept
        for m in chosen[k + 1 :]:
            later |= m
        product = acc | chosen[k]
        acc = product & later
        cost += size(product) * (2 if product != acc else 1)
    return acc, cost
