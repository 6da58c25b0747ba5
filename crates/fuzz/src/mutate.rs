//! A small, deterministic mutator: bit flips, boundary bytes, byte insertions and
//! deletions, copied ranges, splices with other seeds, and the target's dictionary tokens
//! (structural bytes and numbers at their limits).

/// The largest input a mutation produces.
pub const MAX_INPUT: usize = 64 * 1024;

/// Bytes that sit on a boundary: zero, the ends of the signed and unsigned ranges, and
/// the characters that give text formats their structure.
const BOUNDARY_BYTES: &[u8] = &[0x00, 0x01, 0x7f, 0x80, 0xff, b'"', b'\\', b'{', b'}', b'[', b']', b',', b':', b' '];

/// Numbers at the limits of the types the parsers read into.
const BOUNDARY_NUMBERS: &[&[u8]] = &[
    b"0",
    b"-0",
    b"-1",
    b"2147483647",
    b"2147483648",
    b"-2147483649",
    b"9223372036854775807",
    b"-9223372036854775808",
    b"18446744073709551616",
    b"1e308",
    b"1e309",
    b"-1e-400",
    b"0.0001",
    b"8640000000000.001",
];

/// xorshift64*: fast, deterministic for a given seed, good enough to pick mutations.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator started from `seed` (any value; zero is moved off the fixed point).
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` at least 1).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }
}

/// Produces mutated inputs from a target's seeds.
#[derive(Debug)]
pub struct Mutator<'a> {
    seeds: &'a [Vec<u8>],
    dictionary: &'a [&'a [u8]],
    rng: Rng,
}

impl<'a> Mutator<'a> {
    /// A mutator over `seeds` (at least one) that also inserts `dictionary` tokens.
    pub fn new(seeds: &'a [Vec<u8>], dictionary: &'a [&'a [u8]], seed: u64) -> Self {
        Mutator { seeds, dictionary, rng: Rng::new(seed) }
    }

    /// A new input: a seed changed by one to eight stacked mutations.
    pub fn next_input(&mut self) -> Vec<u8> {
        let mut input = self.seeds[self.rng.below(self.seeds.len())].clone();
        for _ in 0..=self.rng.below(8) {
            self.mutate(&mut input);
        }
        input.truncate(MAX_INPUT);
        input
    }

    fn mutate(&mut self, input: &mut Vec<u8>) {
        let len = input.len();
        match self.rng.below(9) {
            0 if len > 0 => {
                let at = self.rng.below(len);
                input[at] ^= 1 << self.rng.below(8);
            }
            1 if len > 0 => {
                let at = self.rng.below(len);
                input[at] = BOUNDARY_BYTES[self.rng.below(BOUNDARY_BYTES.len())];
            }
            2 => {
                let at = self.rng.below(len + 1);
                input.insert(at, self.rng.next_u64() as u8);
            }
            3 if len > 0 => {
                let start = self.rng.below(len);
                let end = (start + 1 + self.rng.below(16)).min(len);
                input.drain(start..end);
            }
            4 if len > 0 => {
                let start = self.rng.below(len);
                let end = (start + 1 + self.rng.below(32)).min(len);
                let copied = input[start..end].to_vec();
                let at = self.rng.below(len + 1);
                input.splice(at..at, copied);
            }
            5 => {
                let other = &self.seeds[self.rng.below(self.seeds.len())];
                let cut = self.rng.below(len + 1);
                let from = self.rng.below(other.len() + 1);
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
            6 if !self.dictionary.is_empty() => {
                let token = self.dictionary[self.rng.below(self.dictionary.len())];
                let at = self.rng.below(len + 1);
                input.splice(at..at, token.iter().copied());
            }
            7 => {
                let number = BOUNDARY_NUMBERS[self.rng.below(BOUNDARY_NUMBERS.len())];
                let start = self.rng.below(len + 1);
                let end = (start + self.rng.below(4)).min(len);
                input.splice(start..end, number.iter().copied());
            }
            _ => {
                let keep = self.rng.below(len + 1);
                input.truncate(keep);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_inputs() {
        let seeds = vec![b"{\"a\": 1}".to_vec(), b"[]".to_vec()];
        let run = |seed| {
            let mut m = Mutator::new(&seeds, &[b"null"], seed);
            (0..50).map(|_| m.next_input()).collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn inputs_stay_within_the_size_limit() {
        let seeds = vec![vec![b'x'; MAX_INPUT]];
        let mut m = Mutator::new(&seeds, &[], 1);
        assert!((0..200).all(|_| m.next_input().len() <= MAX_INPUT));
    }
}
