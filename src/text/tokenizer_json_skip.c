/*
 * tokenizer_json_skip.c — the extent of a lazy JSON member (Gemma 3's 7 MB
 * vocabulary and 25 MB merges list) in one pass of 64-byte blocks.
 *
 * Stepping from quote to quote costs a branch per string, and these lists
 * hold millions of short strings. Instead each block becomes bit masks of
 * its quotes, backslashes and brackets (SSE2 compares where the compiler
 * targets them, a bytewise loop elsewhere); the escaped characters follow
 * from the backslashes (rare: walked one by one), the inside of strings is
 * the prefix XOR of the real quotes, and only the brackets outside strings
 * are walked to track the depth. The member is validated later by the
 * streaming reader; this pass only needs its end and, for an array,
 * element ends that split it into parts (see tj_node.raw_splits).
 */
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "core/error.h"
#include "text/tokenizer_json.h"

#define BLOCK 64
#define MAX_MARKS 64

typedef struct block_bits {
    uint64_t quote, backslash, open, close; /* bit i: byte i of the block */
} block_bits;

#ifdef __SSE2__
static uint64_t equal_mask(__m128i v, char c) {
    return (uint16_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8(c)));
}

static void classify(const char *p, block_bits *b) {
    *b = (block_bits){0, 0, 0, 0};
    for (int i = 0; i < BLOCK / 16; i++) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * i));
        __m128i folded = _mm_or_si128(v, _mm_set1_epi8(0x20)); /* '[' ']' onto '{' '}', nothing else */
        b->quote |= equal_mask(v, '"') << 16 * i;
        b->backslash |= equal_mask(v, '\\') << 16 * i;
        b->open |= equal_mask(folded, '{') << 16 * i;
        b->close |= equal_mask(folded, '}') << 16 * i;
    }
}
#else
static void classify(const char *p, block_bits *b) {
    *b = (block_bits){0, 0, 0, 0};
    for (int i = 0; i < BLOCK; i++) {
        uint64_t bit = (uint64_t)1 << i;
        char c = p[i], folded = (char)(c | 0x20);
        if (c == '"') b->quote |= bit;
        else if (c == '\\') b->backslash |= bit;
        else if (folded == '{') b->open |= bit;
        else if (folded == '}') b->close |= bit;
    }
}
#endif

/* Characters of the block escaped by a backslash. *carry: on entry the
 * block's first character is escaped, on return the next block's is. */
static uint64_t escaped_chars(uint64_t backslash, uint64_t *carry) {
    uint64_t escaped = *carry;
    *carry = 0;
    backslash &= ~escaped; /* an escaped backslash escapes nothing */
    while (backslash) {
        int i = __builtin_ctzll(backslash);
        if (i == BLOCK - 1) {
            *carry = 1;
            break;
        }
        uint64_t next = (uint64_t)2 << i;
        escaped |= next;
        backslash &= ~((uint64_t)1 << i | next);
    }
    return escaped;
}

/* Bit i set when an odd number of bits at or below i are set in x. */
static uint64_t prefix_xor(uint64_t x) {
    for (int s = 1; s < BLOCK; s *= 2) x ^= x << s;
    return x;
}

/* Element ends of a large array, kept about evenly spaced (the stride
 * doubles when the list fills), to split its reading into parts. */
typedef struct split_marks {
    const char *start;
    char *at[MAX_MARKS];
    size_t count[MAX_MARKS]; /* elements counted up to the mark */
    size_t n, stride, next;  /* next: offset from start of the next mark */
} split_marks;

static void mark_element_end(split_marks *m, char *p, size_t count) {
    if ((size_t)(p - m->start) < m->next) return;
    if (m->n == MAX_MARKS) {
        for (size_t i = 0; i < MAX_MARKS / 2; i++) {
            m->at[i] = m->at[2 * i + 1];
            m->count[i] = m->count[2 * i + 1];
        }
        m->n = MAX_MARKS / 2;
        m->stride *= 2;
    }
    m->at[m->n] = p;
    m->count[m->n++] = count;
    m->next = (size_t)(p - m->start) + m->stride;
}

/* The marks nearest to TJ_MAX_SPLITS + 1 equal parts, in order, and the
 * elements counted in each part. */
static size_t pick_splits(const split_marks *m, const char *end, size_t total, tj_split_points *out) {
    size_t n = 0, i = 0, before = 0;
    for (size_t k = 1; k <= TJ_MAX_SPLITS && i < m->n; k++) {
        const char *target = m->start + (size_t)(end - m->start) / (TJ_MAX_SPLITS + 1) * k;
        while (i + 1 < m->n && m->at[i + 1] <= target) i++;
        if (i + 1 < m->n && m->at[i + 1] - target < target - m->at[i]) i++;
        if (n && m->at[i] <= out->at[n - 1]) continue;
        out->at[n] = m->at[i];
        out->count[n++] = m->count[i] - before;
        before = m->count[i];
    }
    out->count[n] = total - before;
    return n;
}

typedef struct skip_state {
    int depth;
    uint64_t in_string; /* all ones while inside a string across blocks */
    uint64_t escape_carry;
    bool array;
    size_t elements; /* of an array: element ends seen (see tj_split_points) */
    split_marks marks;
} skip_state;

/* Walk the brackets outside strings of the block at p; *end is set when
 * the container closes. */
static vlm_status walk_block(skip_state *s, char *p, const block_bits *b, const tj_lexer *lx, char **end) {
    uint64_t quotes = b->quote & ~escaped_chars(b->backslash, &s->escape_carry);
    uint64_t inside = prefix_xor(quotes) ^ s->in_string;
    s->in_string = (uint64_t)((int64_t)inside >> 63);
    uint64_t open = b->open & ~inside, brackets = (b->open | b->close) & ~inside;
    int last = -1;
    for (; brackets; brackets &= brackets - 1) {
        last = __builtin_ctzll(brackets);
        if (open >> last & 1) {
            if (++s->depth > TJ_MAX_DEPTH)
                return vlm_error(VLM_ERR_FORMAT, "%s: malformed JSON at byte %zu: nesting too deep", lx->what,
                                 (size_t)(p + last - lx->base));
        } else if (--s->depth == 0) {
            *end = p + last + 1;
            return VLM_OK;
        } else if (s->array && s->depth == 1) {
            mark_element_end(&s->marks, p + last + 1, ++s->elements);
        }
    }
    /* a string that closes after the block's last bracket, at depth 1 */
    uint64_t string_ends = quotes & ~inside;
    if (last == BLOCK - 1) string_ends = 0;
    else if (last >= 0) string_ends &= ~(((uint64_t)2 << last) - 1);
    if (s->array && s->depth == 1 && string_ends) {
        s->elements += (size_t)__builtin_popcountll(string_ends);
        mark_element_end(&s->marks, p + (BLOCK - __builtin_clzll(string_ends)), s->elements);
    }
    return VLM_OK;
}

vlm_status tj_skip_container(tj_lexer *lx, tj_split_points *splits) {
    char *start = lx->p, *p = start, *end = NULL;
    skip_state s = {.array = *start == '[',
                    .marks = {.start = start, .stride = (size_t)1 << 16, .next = (size_t)1 << 16}};
    vlm_status st = VLM_OK;
    block_bits b;
    for (; !st && !end && lx->end - p >= BLOCK; p += BLOCK) {
        classify(p, &b);
        st = walk_block(&s, p, &b, lx, &end);
    }
    if (!st && !end && p < lx->end) { /* the last, partial block: padded with spaces */
        char tail[BLOCK];
        size_t n = (size_t)(lx->end - p);
        memset(tail, ' ', sizeof tail);
        memcpy(tail, p, n);
        classify(tail, &b);
        st = walk_block(&s, p, &b, lx, &end);
    }
    if (st) return st;
    if (!end) {
        lx->p = lx->end;
        return vlm_error(VLM_ERR_FORMAT, "%s: malformed JSON at byte %zu: %s", lx->what,
                         (size_t)(lx->end - lx->base), s.in_string ? "unterminated string" : "unexpected end of input");
    }
    lx->p = end;
    splits->n = s.array ? pick_splits(&s.marks, end, s.elements, splits) : 0;
    return VLM_OK;
}
