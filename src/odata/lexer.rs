//! Splits a `$filter` expression into tokens, each with the column it
//! starts at.
//!
//! # Format
//!
//! ```text
//! token      = "(" / ")" / "," / string / qualified / guid / date-time
//!            / number / identifier
//! string     = "'" *( any-but-quote / "''" ) "'"
//! qualified  = identifier "." identifier *( "." identifier ) string
//!                                 ; microsoft.graph.actionState'done'
//! guid       = 8HEXDIG "-" 4HEXDIG "-" 4HEXDIG "-" 4HEXDIG "-" 12HEXDIG
//! date-time  = see `DateTimeOffset::parse`, written unquoted
//! number     = [ "-" ] 1*DIGIT
//! identifier = ( ALPHA / "_" ) *( ALPHA / DIGIT / "_" / "." )
//! ```
//!
//! Tokens are separated by optional spaces. Columns count characters from 1.

use crate::domain::DateTimeOffset;

use super::filter::FilterError;

/// What a token is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenKind {
    OpenParen,
    CloseParen,
    Comma,
    /// A name: a property, a function, an operator or a keyword.
    Identifier(String),
    /// A quoted string, with `''` already turned into `'`.
    String(String),
    /// An enum member written with its type, as in `microsoft.graph.actionState'done'`.
    QualifiedMember {
        type_name: String,
        member: String,
    },
    Guid(String),
    DateTimeOffset(DateTimeOffset),
    Number(String),
    End,
}

/// A token and the 1-based column where it starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub column: usize,
}

/// Splits `text` into tokens, ending with [`TokenKind::End`].
pub fn tokenize(text: &str) -> Result<Vec<Token>, FilterError> {
    let mut lexer = Lexer {
        chars: text.chars().collect(),
        at: 0,
    };
    let mut tokens = Vec::new();
    loop {
        let token = lexer.next_token()?;
        let done = token.kind == TokenKind::End;
        tokens.push(token);
        if done {
            return Ok(tokens);
        }
    }
}

struct Lexer {
    chars: Vec<char>,
    at: usize,
}

impl Lexer {
    fn peek(&self, ahead: usize) -> Option<char> {
        self.chars.get(self.at + ahead).copied()
    }

    fn next_token(&mut self) -> Result<Token, FilterError> {
        while self.peek(0).is_some_and(char::is_whitespace) {
            self.at += 1;
        }

        let column = self.at + 1;
        let kind = match self.peek(0) {
            None => TokenKind::End,
            Some(c @ ('(' | ')' | ',')) => {
                self.at += 1;
                match c {
                    '(' => TokenKind::OpenParen,
                    ')' => TokenKind::CloseParen,
                    _ => TokenKind::Comma,
                }
            }
            Some('\'') => TokenKind::String(self.string()?),
            Some(_) if self.guid_length().is_some() => self.guid(),
            Some(c) if c.is_ascii_digit() || (c == '-' && self.is_digit_at(1)) => {
                self.number_or_date_time()?
            }
            Some(c) if c.is_ascii_alphabetic() || c == '_' => self.identifier()?,
            Some(c) => {
                return Err(FilterError::new(
                    format!("the character '{c}' is not expected here"),
                    column,
                ));
            }
        };
        Ok(Token { kind, column })
    }

    fn is_digit_at(&self, ahead: usize) -> bool {
        self.peek(ahead).is_some_and(|c| c.is_ascii_digit())
    }

    /// Reads a quoted string; the cursor is on the opening quote.
    fn string(&mut self) -> Result<String, FilterError> {
        let column = self.at + 1;
        self.at += 1;
        let mut text = String::new();
        loop {
            match self.peek(0) {
                None => {
                    return Err(FilterError::new(
                        "the string that starts here has no closing quote",
                        column,
                    ));
                }
                Some('\'') if self.peek(1) == Some('\'') => {
                    text.push('\'');
                    self.at += 2;
                }
                Some('\'') => {
                    self.at += 1;
                    return Ok(text);
                }
                Some(c) => {
                    text.push(c);
                    self.at += 1;
                }
            }
        }
    }

    /// The length of a GUID starting at the cursor, if one does and it is
    /// not the start of a longer name.
    fn guid_length(&self) -> Option<usize> {
        const GROUPS: [usize; 5] = [8, 4, 4, 4, 12];
        let mut offset = 0;
        for (i, group) in GROUPS.iter().enumerate() {
            if i > 0 {
                (self.peek(offset) == Some('-')).then_some(())?;
                offset += 1;
            }
            for _ in 0..*group {
                self.peek(offset)
                    .filter(char::is_ascii_hexdigit)
                    .map(|_| ())?;
                offset += 1;
            }
        }
        let continues = self
            .peek(offset)
            .is_some_and(|c| c.is_ascii_alphanumeric() || "_.-:".contains(c));
        (!continues).then_some(offset)
    }

    fn guid(&mut self) -> TokenKind {
        let length = self.guid_length().unwrap_or_default();
        let text: String = self.chars[self.at..self.at + length].iter().collect();
        self.at += length;
        TokenKind::Guid(text)
    }

    /// Reads a run such as `42`, `-7` or `2026-11-01T00:00:00+02:00`.
    fn number_or_date_time(&mut self) -> Result<TokenKind, FilterError> {
        let column = self.at + 1;
        let start = self.at;
        self.at += 1;
        while self
            .peek(0)
            .is_some_and(|c| c.is_ascii_alphanumeric() || ":.+-".contains(c))
        {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();

        let digits = text.strip_prefix('-').unwrap_or(&text);
        if digits.chars().all(|c| c.is_ascii_digit()) {
            return Ok(TokenKind::Number(text));
        }
        if !text.contains(['T', 't']) {
            return Err(FilterError::new(
                format!("'{text}' is not a number, a GUID or a DateTimeOffset"),
                column,
            ));
        }
        DateTimeOffset::parse(&text)
            .map(TokenKind::DateTimeOffset)
            .map_err(|reason| {
                FilterError::new(
                    format!("'{text}' is not a valid DateTimeOffset: {reason}"),
                    column,
                )
            })
    }

    /// Reads a name, or a qualified enum member when a quote follows a
    /// dotted name directly.
    fn identifier(&mut self) -> Result<TokenKind, FilterError> {
        let start = self.at;
        while self
            .peek(0)
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
        {
            self.at += 1;
        }
        let name: String = self.chars[start..self.at].iter().collect();

        if self.peek(0) == Some('\'') && name.contains('.') {
            let member = self.string()?;
            return Ok(TokenKind::QualifiedMember {
                type_name: name,
                member,
            });
        }
        Ok(TokenKind::Identifier(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<TokenKind> {
        tokenize(text)
            .unwrap()
            .into_iter()
            .map(|t| t.kind)
            .collect()
    }

    #[test]
    fn reads_every_kind_of_token() {
        let kinds = kinds(
            "a eq 'it''s' , microsoft.graph.actionState'done' \
             dbc496cb-8e81-473e-8bec-d7b03898d190 -12 (2026-01-01T00:00:00Z)",
        );
        assert_eq!(
            kinds,
            vec![
                TokenKind::Identifier("a".into()),
                TokenKind::Identifier("eq".into()),
                TokenKind::String("it's".into()),
                TokenKind::Comma,
                TokenKind::QualifiedMember {
                    type_name: "microsoft.graph.actionState".into(),
                    member: "done".into()
                },
                TokenKind::Guid("dbc496cb-8e81-473e-8bec-d7b03898d190".into()),
                TokenKind::Number("-12".into()),
                TokenKind::OpenParen,
                TokenKind::DateTimeOffset(DateTimeOffset::parse("2026-01-01T00:00:00Z").unwrap()),
                TokenKind::CloseParen,
                TokenKind::End,
            ]
        );
    }

    #[test]
    fn a_guid_may_start_with_a_letter() {
        assert_eq!(
            kinds("f28c105d-1fb1-4c23-90c1-92cfd3ac94af")[0],
            TokenKind::Guid("f28c105d-1fb1-4c23-90c1-92cfd3ac94af".into())
        );
    }

    #[test]
    fn columns_count_characters() {
        let tokens = tokenize("'会議' eq x").unwrap();
        assert_eq!(tokens[1].column, 6);
        assert_eq!(tokens[2].column, 9);
    }

    #[test]
    fn reports_where_a_string_is_unterminated() {
        let error = tokenize("x eq 'abc").unwrap_err();
        assert_eq!(error.column, 6);
        assert_eq!(
            error.message,
            "the string that starts here has no closing quote"
        );
    }

    #[test]
    fn reports_bad_date_times() {
        let error = tokenize("x ge 2026-01-01T00:00:00").unwrap_err();
        assert_eq!(error.column, 6);
        assert!(error.message.contains("no time-zone offset"), "{error:?}");
    }
}
