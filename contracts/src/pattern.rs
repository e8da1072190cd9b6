//! A small ECMA-262 regular expression matcher, enough to tell which `patternProperties` entry
//! applies to a property name (no regex crate: this crate depends on serde_json only).
//!
//! Supported: literals, `.`, classes with ranges and `\d \w \s` (and negations), anchors `^ $`,
//! `\b \B`, groups (capturing, `(?:…)`, named), alternation, greedy and lazy quantifiers
//! `* + ? {n} {n,} {n,m}`, escapes `\n \t \xHH \uHHHH \u{…} \cX`. Not supported (an error):
//! lookaround, backreferences, Unicode property escapes.

use std::cell::Cell;

/// Why a pattern cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PatternError {
    /// Valid ECMA-262 that this matcher does not implement.
    #[error("unsupported regular expression syntax: {0}")]
    Unsupported(&'static str),
    /// Not a valid regular expression.
    #[error("malformed regular expression: {0}")]
    Malformed(&'static str),
}

/// A compiled pattern.
#[derive(Debug)]
pub(crate) struct Pattern {
    alternatives: Vec<Vec<Node>>,
}

#[derive(Debug)]
enum Node {
    Char(char),
    Any,
    Class(Class),
    Start,
    End,
    WordBoundary(bool),
    Group(Vec<Vec<Node>>),
    Repeat {
        node: Box<Node>,
        min: u32,
        max: Option<u32>,
    },
}

#[derive(Debug)]
struct Class {
    negated: bool,
    items: Vec<Item>,
}

#[derive(Debug, Clone, Copy)]
enum Item {
    Range(char, char),
    Perl(Perl, bool),
}

#[derive(Debug, Clone, Copy)]
enum Perl {
    Digit,
    Word,
    Space,
}

/// Steps after which a match attempt gives up (and counts as no match).
const STEP_BUDGET: usize = 200_000;

impl Pattern {
    /// Compiles `source` (ECMA-262 syntax, as JSON Schema specifies).
    pub(crate) fn new(source: &str) -> Result<Self, PatternError> {
        let mut parser = Parser {
            chars: source.chars().collect(),
            pos: 0,
        };
        let alternatives = parser.alternation()?;
        if parser.pos < parser.chars.len() {
            return Err(PatternError::Malformed("unbalanced `)`"));
        }
        Ok(Pattern { alternatives })
    }

    /// Whether the pattern matches anywhere in `text` (patterns are not implicitly anchored).
    pub(crate) fn is_match(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let m = Matcher {
            text: &text,
            steps: Cell::new(0),
        };
        (0..=text.len()).any(|start| m.alts(&self.alternatives, start, &mut |_| true))
    }
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        self.pos += usize::from(hit);
        hit
    }

    fn next(&mut self) -> Result<char, PatternError> {
        let c = self
            .peek()
            .ok_or(PatternError::Malformed("ends too early"))?;
        self.pos += 1;
        Ok(c)
    }

    fn alternation(&mut self) -> Result<Vec<Vec<Node>>, PatternError> {
        let mut alternatives = vec![self.sequence()?];
        while self.eat('|') {
            alternatives.push(self.sequence()?);
        }
        Ok(alternatives)
    }

    fn sequence(&mut self) -> Result<Vec<Node>, PatternError> {
        let mut nodes = Vec::new();
        while let Some(c) = self.peek() {
            if c == '|' || c == ')' {
                break;
            }
            let atom = self.atom()?;
            nodes.push(self.quantified(atom)?);
        }
        Ok(nodes)
    }

    fn atom(&mut self) -> Result<Node, PatternError> {
        match self.next()? {
            '(' => self.group(),
            '[' => self.class().map(Node::Class),
            '.' => Ok(Node::Any),
            '^' => Ok(Node::Start),
            '$' => Ok(Node::End),
            '\\' => self.escape(),
            '*' | '+' | '?' => Err(PatternError::Malformed("nothing to repeat")),
            '{' if self.counted(self.pos - 1).is_some() => {
                Err(PatternError::Malformed("nothing to repeat"))
            }
            c => Ok(Node::Char(c)),
        }
    }

    fn group(&mut self) -> Result<Node, PatternError> {
        if self.eat('?') {
            match self.next()? {
                ':' => {}
                '=' | '!' => return Err(PatternError::Unsupported("lookahead")),
                '<' if matches!(self.peek(), Some('=' | '!')) => {
                    return Err(PatternError::Unsupported("lookbehind"));
                }
                '<' => while self.next()? != '>' {},
                _ => return Err(PatternError::Malformed("unknown group")),
            }
        }
        let alternatives = self.alternation()?;
        if !self.eat(')') {
            return Err(PatternError::Malformed("unclosed `(`"));
        }
        Ok(Node::Group(alternatives))
    }

    fn quantified(&mut self, atom: Node) -> Result<Node, PatternError> {
        let (min, max) = match self.peek() {
            Some('*') => (0, None),
            Some('+') => (1, None),
            Some('?') => (0, Some(1)),
            Some('{') => match self.counted(self.pos) {
                Some((min, max, after)) => {
                    self.pos = after - 1;
                    (min, max)
                }
                None => return Ok(atom),
            },
            _ => return Ok(atom),
        };
        self.pos += 1;
        self.eat('?'); // lazy: the same set of matches
        if max.is_some_and(|max| max < min) {
            return Err(PatternError::Malformed("quantifier range out of order"));
        }
        Ok(Node::Repeat {
            node: Box::new(atom),
            min,
            max,
        })
    }

    /// `{n}`, `{n,}` or `{n,m}` whose `{` is at `open`: (min, max, index after the `}`).
    fn counted(&self, open: usize) -> Option<(u32, Option<u32>, usize)> {
        let start = open + 1;
        let end = start + self.chars.get(start..)?.iter().position(|&c| c == '}')?;
        let body: String = self.chars[start..end].iter().collect();
        let (min, max) = match body.split_once(',') {
            None => {
                let n = body.parse().ok()?;
                (n, Some(n))
            }
            Some((min, "")) => (min.parse().ok()?, None),
            Some((min, max)) => (min.parse().ok()?, Some(max.parse().ok()?)),
        };
        Some((min, max, end + 1))
    }

    fn escape(&mut self) -> Result<Node, PatternError> {
        match self.peek() {
            Some('b') => {
                self.pos += 1;
                Ok(Node::WordBoundary(true))
            }
            Some('B') => {
                self.pos += 1;
                Ok(Node::WordBoundary(false))
            }
            _ => Ok(match self.class_escape()? {
                Item::Range(c, _) => Node::Char(c),
                perl => Node::Class(Class {
                    negated: false,
                    items: vec![perl],
                }),
            }),
        }
    }

    /// The character or class after a `\` (`\b` is handled by the caller outside classes).
    fn class_escape(&mut self) -> Result<Item, PatternError> {
        let c = self.next()?;
        let single = |c: char| Ok(Item::Range(c, c));
        match c {
            'd' | 'D' => Ok(Item::Perl(Perl::Digit, c == 'D')),
            'w' | 'W' => Ok(Item::Perl(Perl::Word, c == 'W')),
            's' | 'S' => Ok(Item::Perl(Perl::Space, c == 'S')),
            'n' => single('\n'),
            'r' => single('\r'),
            't' => single('\t'),
            'f' => single('\u{c}'),
            'v' => single('\u{b}'),
            'b' => single('\u{8}'),
            '0' if !self.peek().is_some_and(|c| c.is_ascii_digit()) => single('\0'),
            '1'..='9' | 'k' => Err(PatternError::Unsupported("backreference")),
            'p' | 'P' => Err(PatternError::Unsupported("Unicode property escape")),
            'c' => {
                let letter = self.next()?;
                if !letter.is_ascii_alphabetic() {
                    return Err(PatternError::Malformed("`\\c` needs a letter"));
                }
                single(char::from(letter as u8 % 32))
            }
            'x' => self.hex(2).and_then(single),
            'u' if self.eat('{') => {
                let end = self.chars[self.pos..].iter().position(|&c| c == '}');
                let end = end.ok_or(PatternError::Malformed("unclosed `\\u{`"))?;
                let digits: String = self.chars[self.pos..self.pos + end].iter().collect();
                self.pos += end + 1;
                code_point(&digits).and_then(single)
            }
            'u' => self.hex(4).and_then(single),
            c => single(c),
        }
    }

    fn hex(&mut self, len: usize) -> Result<char, PatternError> {
        let digits: String = self.chars.iter().skip(self.pos).take(len).collect();
        self.pos += len;
        if digits.chars().count() != len {
            return Err(PatternError::Malformed("short hexadecimal escape"));
        }
        code_point(&digits)
    }

    fn class(&mut self) -> Result<Class, PatternError> {
        let negated = self.eat('^');
        let mut items = Vec::new();
        loop {
            let first = match self.next()? {
                ']' => return Ok(Class { negated, items }),
                '\\' => self.class_escape()?,
                c => Item::Range(c, c),
            };
            let ranged = self.peek() == Some('-') && self.chars.get(self.pos + 1) != Some(&']');
            if !ranged {
                items.push(first);
                continue;
            }
            self.pos += 1;
            let last = match self.next()? {
                '\\' => self.class_escape()?,
                c => Item::Range(c, c),
            };
            match (first, last) {
                (Item::Range(a, _), Item::Range(b, _)) if a > b => {
                    return Err(PatternError::Malformed("class range out of order"));
                }
                (Item::Range(a, _), Item::Range(b, _)) => items.push(Item::Range(a, b)),
                (first, last) => items.extend([first, Item::Range('-', '-'), last]),
            }
        }
    }
}

fn code_point(hex: &str) -> Result<char, PatternError> {
    u32::from_str_radix(hex, 16)
        .ok()
        .and_then(char::from_u32)
        .ok_or(PatternError::Malformed("bad hexadecimal escape"))
}

impl Perl {
    fn matches(self, c: char) -> bool {
        match self {
            Perl::Digit => c.is_ascii_digit(),
            Perl::Word => is_word(c),
            Perl::Space => c.is_whitespace() || c == '\u{feff}',
        }
    }
}

impl Class {
    fn matches(&self, c: char) -> bool {
        let hit = self.items.iter().any(|item| match *item {
            Item::Range(a, b) => (a..=b).contains(&c),
            Item::Perl(perl, negated) => perl.matches(c) != negated,
        });
        hit != self.negated
    }
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

struct Matcher<'t> {
    text: &'t [char],
    steps: Cell<usize>,
}

type Next<'k> = &'k mut dyn FnMut(usize) -> bool;

impl Matcher<'_> {
    fn alts(&self, alternatives: &[Vec<Node>], pos: usize, k: Next<'_>) -> bool {
        alternatives.iter().any(|seq| self.seq(seq, pos, k))
    }

    fn seq(&self, seq: &[Node], pos: usize, k: Next<'_>) -> bool {
        match seq.split_first() {
            None => k(pos),
            Some((first, rest)) => self.node(first, pos, &mut |p| self.seq(rest, p, k)),
        }
    }

    fn node(&self, node: &Node, pos: usize, k: Next<'_>) -> bool {
        self.steps.set(self.steps.get() + 1);
        if self.steps.get() > STEP_BUDGET {
            return false;
        }
        let here = self.text.get(pos).copied();
        match node {
            Node::Char(c) => here == Some(*c) && k(pos + 1),
            Node::Any => here.is_some_and(|c| !"\n\r\u{2028}\u{2029}".contains(c)) && k(pos + 1),
            Node::Class(class) => here.is_some_and(|c| class.matches(c)) && k(pos + 1),
            Node::Start => pos == 0 && k(pos),
            Node::End => pos == self.text.len() && k(pos),
            Node::WordBoundary(want) => {
                let before = pos > 0 && is_word(self.text[pos - 1]);
                let after = here.is_some_and(is_word);
                (before != after) == *want && k(pos)
            }
            Node::Group(alternatives) => self.alts(alternatives, pos, k),
            Node::Repeat { node, min, max } => self.repeat(node, (*min, *max), 0, pos, k),
        }
    }

    fn repeat(
        &self,
        node: &Node,
        (min, max): (u32, Option<u32>),
        count: u32,
        pos: usize,
        k: Next<'_>,
    ) -> bool {
        if max.is_none_or(|max| count < max) {
            let more = self.node(node, pos, &mut |p| {
                // An empty iteration past the minimum cannot lead anywhere new.
                !(p == pos && count >= min) && self.repeat(node, (min, max), count + 1, p, k)
            });
            if more {
                return true;
            }
        }
        count >= min && k(pos)
    }
}
