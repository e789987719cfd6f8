"""Groups of opinions that say the same thing, and "opinions like this one", for short Japanese texts.

Japanese has no spaces between words, so a text is described by character n-grams of its folded form
(`consult.core.search.fold`: ＤＸ/DX, ﾏｲﾅ/マイナ, サーバー/サーバ are alike) with punctuation and spaces removed: its
characters and character pairs, leaving out those of hiragana alone (particles and endings: の, を, する, べき).
Each is weighted by TF-IDF (sublinear term frequency; what every opinion has, such as 自治体 or 国, weighs
little), vectors are normalised, and two opinions are as similar as the cosine of their vectors (0 to 1). It runs
offline on the CPU and needs no dictionary or model.

Why not the usual character 2-3-grams (`char_2_3_grams`, the baseline of bench/similarity.py): over the 14 talking
points of bench/jatext.py and two paraphrases of each, 2-3-grams score paraphrases of one point from 0.15
(median 0.39) and different points up to 0.20, so no threshold keeps the first together and the second apart;
`content_grams` scores paraphrases from 0.33 (median 0.62) and different points at most 0.22. Japanese content
words are mostly two kanji; a paraphrase keeps them and changes the particles and endings around them.

Groups come from average-linkage clustering (UPGMA) cut at a similarity threshold: two groups merge while the
mean similarity between their members stays at or above it, so a chain of "each like the next" opinions does not
become one group the way a threshold graph would. The input is sorted by id first, so the same opinions give the
same groups every time; a group is named by its smallest id (`Group.key`).

Why numpy and scipy, not scikit-learn: the n-grams are counted with numpy (code points packed into one int64,
`np.unique`), the vectors are a scipy sparse matrix, and scipy's hierarchical clustering is in C. That is all
scikit-learn's TfidfVectorizer and AgglomerativeClustering would add, at several times the install size.

The words a group shares (`Group.terms`) are the words (runs of kanji, katakana, Latin letters and digits, cut at
particles) that at least half of its members hold, the most shared and least common in the whole corpus first,
as written (NFKC only, not folded). A word segmenter (janome, sudachipy with its dictionary) would cut words
better, but weighs 50-100 MB and a second per thousand opinions for what is only a label for people to read.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from scipy.sparse import csr_matrix
from scipy.spatial.distance import squareform

from consult.core.search.fold import fold

# Measured (bench/similarity.py, tests/test_search_similarity.py): two paraphrases of one point score 0.23-0.6,
# near-duplicates 0.6-1, different points 0.22 at most and mostly below 0.15. The groups' mean similarity is
# cut below the paraphrases' (0.31 for the loosest of the hand-labelled four); 0.25-0.3 give the same F1 on the
# benchmark (0.82).
DEFAULT_THRESHOLD = 0.25
# Grouping holds an n x n matrix: 3,000 opinions take 36 MB, 10,000 take 400 MB (and twice that for scipy).
MAX_GROUPED = 10_000
# Vectors of at most this many cells (float32: 120 MB) are multiplied dense (Corpus.similarities).
DENSE_LIMIT = 30_000_000
# Not a letter, a digit or a mark: punctuation, symbols and spaces, dropped before taking n-grams.
_NOT_WORD = re.compile(r"[\W_]+")
_CODE_BITS = 21  # a code point fits in 21 bits


def similarity_text(text: str | None) -> str:
    """The folded text without punctuation and spaces: what the n-grams are taken from."""
    return _NOT_WORD.sub("", fold(text))


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)


def content_grams(text: str) -> np.ndarray:
    """The features of a similarity text as int64 codes: its characters and character pairs, leaving out those of
    hiragana alone, unless it has nothing else (a pair packs two code points, so it never equals a character)."""
    points = _code_points(text)
    pairs = (points[:-1] << _CODE_BITS) | points[1:]
    kana = (points >= 0x3041) & (points <= 0x309F)
    content = np.concatenate([points[~kana], pairs[~(kana[:-1] & kana[1:])]])
    return content if len(content) else np.concatenate([points, pairs])


def char_2_3_grams(text: str) -> np.ndarray:
    """The usual character 2- and 3-grams, all of them: the baseline bench/similarity.py compares with."""
    points = _code_points(text)
    pairs = (points[:-1] << _CODE_BITS) | points[1:]
    return np.concatenate([pairs, (pairs[:-1] << _CODE_BITS) | points[2:]])


@dataclass(frozen=True)
class Group:
    """Opinions proposed as saying the same thing."""

    key: int  # the smallest member id: the same members always give the same key
    ids: tuple[int, ...]  # ascending
    terms: tuple[str, ...]  # what they share, most shared first
    cohesion: float  # mean similarity between two members


@dataclass
class Corpus:
    """TF-IDF vectors of character 2-3-grams of some opinions, built once for groups and similar() queries."""

    ids: list[int]
    texts: list[str]
    matrix: csr_matrix = field(repr=False)  # one L2-normalised row per id

    @classmethod
    def build(cls, docs: Iterable[tuple[int, str]], features: Callable[[str], np.ndarray] = content_grams) -> Corpus:
        """Vectors for (id, text) pairs; ids are sorted so that the same input always gives the same result."""
        pairs = sorted((int(i), t or "") for i, t in docs)
        ids = [i for i, _ in pairs]
        if len(set(ids)) != len(ids):
            raise ValueError("opinion ids must be unique")
        codes = [features(similarity_text(t)) for _, t in pairs]
        rows = np.repeat(np.arange(len(codes)), [len(c) for c in codes])
        flat = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int64)
        _, columns = np.unique(flat, return_inverse=True)
        width = int(columns.max()) + 1 if len(columns) else 0
        counts = csr_matrix((np.ones(len(flat), dtype=np.float32), (rows, columns)), shape=(len(ids), width))
        counts.sum_duplicates()
        df = np.bincount(counts.indices, minlength=width)
        idf = np.log((1 + len(ids)) / (1 + df)) + 1
        counts.data = (1 + np.log(counts.data)) * idf[counts.indices].astype(np.float32)
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        norms[norms == 0] = 1
        matrix = csr_matrix(counts.multiply(1 / norms[:, None]))
        return cls(ids=ids, texts=[t for _, t in pairs], matrix=matrix)

    def similarities(self) -> np.ndarray:
        """The n x n cosine similarities (float32), 1 on the diagonal of every non-empty text.

        The result is nearly dense (most pairs share some character), so a dense BLAS product of the vectors
        beats a sparse one several times over (3,000 opinions: 0.6 s against 3.7 s on a loaded machine); the
        vectors are made dense only while they stay small (n x shared features <= DENSE_LIMIT)."""
        matrix = self.matrix
        # A feature of one opinion only adds to that opinion's own similarity (the diagonal, set below).
        shared = np.flatnonzero(np.bincount(matrix.indices, minlength=matrix.shape[1]) >= 2)
        if matrix.shape[0] * len(shared) > DENSE_LIMIT:
            sims = (matrix @ matrix.T).toarray().astype(np.float32)
        else:
            dense = matrix[:, shared].toarray()
            sims = dense @ dense.T  # float32 (sgemm): symmetric up to rounding; clustering reads one triangle
        np.fill_diagonal(sims, np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        return sims

    def similar(self, opinion_id: int, limit: int = 10, min_score: float = 0.1) -> list[tuple[int, float]]:
        """The other opinions most like this one: (id, score), most similar first, ties by id."""
        row = self._positions[opinion_id]  # KeyError for an opinion the corpus does not hold
        scores = self.matrix @ self.matrix[row].toarray().ravel()  # one sparse matrix-vector product
        scores[row] = -1
        order = np.lexsort((np.array(self.ids), -scores))
        return [(self.ids[j], round(float(scores[j]), 4)) for j in order[:limit] if scores[j] >= min_score]

    @cached_property
    def background(self) -> Background:
        """How common each word is across the corpus, for the shared words of its groups."""
        return Background.of(self.texts)

    @cached_property
    def _positions(self) -> dict[int, int]:
        return {opinion_id: position for position, opinion_id in enumerate(self.ids)}

    def groups(self, threshold: float = DEFAULT_THRESHOLD, min_size: int = 2) -> list[Group]:
        """Groups of at least `min_size` opinions whose mean similarity is at least `threshold`, largest first."""
        n = len(self.ids)
        if n < 2:
            return []
        if n > MAX_GROUPED:
            raise ValueError(f"{n} opinions: group them item by item (at most {MAX_GROUPED:,} at once)")
        sims = self.similarities()
        np.fill_diagonal(sims, 1)
        distances = squareform(np.clip(1 - sims, 0, 1), checks=False).astype(np.float64)
        labels = fcluster(linkage(distances, method="average"), t=1 - threshold, criterion="distance")
        members: dict[int, list[int]] = {}
        for position, label in enumerate(labels):
            members.setdefault(int(label), []).append(position)
        found = []
        for positions in members.values():
            if len(positions) < min_size:
                continue
            block = sims[np.ix_(positions, positions)]
            cohesion = (block.sum() - len(positions)) / (len(positions) * (len(positions) - 1))
            ids = tuple(self.ids[p] for p in positions)
            terms = tuple(shared_terms([self.texts[p] for p in positions], background=self.background))
            found.append(Group(key=ids[0], ids=ids, terms=terms, cohesion=round(float(cohesion), 4)))
        return sorted(found, key=lambda g: (-len(g.ids), g.key))


def groups(docs: Iterable[tuple[int, str]], threshold: float = DEFAULT_THRESHOLD, min_size: int = 2) -> list[Group]:
    """Groups of similar opinions among (id, text) pairs; see `Corpus.groups`."""
    return Corpus.build(docs).groups(threshold=threshold, min_size=min_size)


def similar(
    docs: Iterable[tuple[int, str]], opinion_id: int, limit: int = 10, min_score: float = 0.1
) -> list[tuple[int, float]]:
    """The opinions among (id, text) pairs most like `opinion_id`'s: [(other_id, score)], most similar first."""
    return Corpus.build(docs).similar(opinion_id, limit=limit, min_score=min_score)


# ---------------------------------------------------------------------------------------------------------
# The words a group shares

# A word: a run of kanji, katakana, Latin letters or digits, with the okurigana inside it (給付付き税額控除,
# 引き上げ) but cut at particles (マイナ保険証|への|一本化, 健康保険証|の|廃止).
_WORD = re.compile(r"(?:[一-鿿々〆ヵヶァ-ヺーA-Za-z0-9]+(?:(?![のをがはにへとでもや])[ぁ-ゖ](?=[一-鿿々]))?)+")


def words(text: str) -> set[str]:
    """The words of a text as written (NFKC only), two characters or longer."""
    return {w for w in _WORD.findall(unicodedata.normalize("NFKC", text or "")) if len(w) >= 2}


@dataclass(frozen=True)
class Background:
    """How many texts of a whole corpus hold each word: shared words that every opinion has say little."""

    total: int
    counts: dict[str, int]

    @classmethod
    def of(cls, texts: Iterable[str]) -> Background:
        counts: dict[str, int] = {}
        total = 0
        for text in texts:
            total += 1
            for word in words(text):
                counts[word] = counts.get(word, 0) + 1
        return cls(total, counts)

    def idf(self, word: str) -> float:
        return math.log((1 + self.total) / (1 + self.counts.get(word, 0))) + 1


def shared_terms(
    texts: Sequence[str], limit: int = 5, share: float = 0.5, background: Background | None = None
) -> list[str]:
    """The words at least `share` of the texts hold, most shared and most telling first, none inside another."""
    needed = max(2, math.ceil(share * len(texts)))
    held: dict[str, int] = {}
    for text in texts:
        for word in words(text):
            held[word] = held.get(word, 0) + 1
    background = background or Background.of(texts)
    scored = sorted(
        (-count / len(texts) * background.idf(word), -len(word), word)
        for word, count in held.items()
        if count >= needed
    )
    chosen: list[str] = []
    for _, _, word in scored:
        if not any(word in other for other in chosen):
            chosen.append(word)
        if len(chosen) == limit:
            break
    return chosen
