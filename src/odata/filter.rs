//! `$filter`: parsing an expression into a [`Filter`] checked against the
//! properties of `remoteActionAudit`.
//!
//! # Format
//!
//! ```text
//! filter     = or-expr
//! or-expr    = and-expr *( "or" and-expr )
//! and-expr   = unary *( "and" unary )
//! unary      = "not" unary / "(" or-expr ")" / predicate
//! predicate  = operand comparison operand      ; one side a property
//!            / operand "in" "(" literal *( "," literal ) ")"
//!            / text-call [ ( "eq" / "ne" ) boolean ]
//!            / boolean
//! comparison = "eq" / "ne" / "gt" / "ge" / "lt" / "le"
//! operand    = property / case-call / literal
//! case-call  = ( "tolower" / "toupper" ) "(" ( property / case-call ) ")"
//! text-call  = ( "startswith" / "endswith" / "contains" )
//!              "(" ( property / case-call ) "," ( string / guid ) ")"
//! literal    = string / qualified / guid / date-time / "null" / boolean
//! boolean    = "true" / "false"
//! ```
//!
//! Tokens are described in [`super::lexer`]. Keywords, function and property
//! names are case-sensitive, as in Graph.
//!
//! # Meaning
//!
//! - String comparisons and the text functions are case-insensitive: both
//!   sides are folded to lower case first, so `tolower`/`toupper` change
//!   nothing and are accepted for compatibility. Ordering comparisons on
//!   strings follow code-point order of the folded text.
//! - Enum members are named as strings (`'done'`) or qualified
//!   (`microsoft.graph.actionState'done'`); `gt`/`lt` follow the members'
//!   numeric values. For `remoteAction`, `unknownFutureValue` is refused, and
//!   so are members after it unless the request carried
//!   `Prefer: include-unknown-enum-members`.
//! - `requestDateTime` is compared as an instant, whatever offset the literal
//!   is written with.
//! - Null follows OData's two-valued logic: `x eq 'a'` is false and
//!   `x ne 'a'` is true when `x` is null, so `not (x eq 'a')` equals
//!   `x ne 'a'`. `null` may only be compared with `eq` and `ne` (or listed
//!   in `in`); text functions are false on null.
//!
//! # Limits
//!
//! An expression may be at most [`MAX_LENGTH`] characters long, nest
//! parentheses, `not` and function calls at most [`MAX_DEPTH`] deep, and
//! list at most [`MAX_IN_VALUES`] values in one `in`.

use std::fmt;

use super::lexer::{Token, TokenKind, tokenize};
use crate::domain::{MemberLookup, Property, PropertyType, fold_case};
use crate::storage::sql::SqlValue;

pub use super::translate::to_sql;

/// The longest expression accepted, in characters.
pub const MAX_LENGTH: usize = 4000;
/// The deepest nesting of parentheses, `not` and function calls.
pub const MAX_DEPTH: usize = 32;
/// The most values in one `in` list.
pub const MAX_IN_VALUES: usize = 500;

/// A checked `$filter` expression.
///
/// Values are as storage holds them: folded text for strings, member values
/// for enums and ticks for `requestDateTime`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// `true` or `false` on its own.
    Constant(bool),
    /// Every part holds (`and`).
    All(Vec<Filter>),
    /// Some part holds (`or`).
    Any(Vec<Filter>),
    Not(Box<Filter>),
    Compare {
        property: Property,
        operator: CompareOperator,
        value: SqlValue,
    },
    /// `property in (...)`; a `Null` value matches a null property.
    In {
        property: Property,
        values: Vec<SqlValue>,
    },
    /// `startswith`, `endswith` or `contains` with folded text.
    Text {
        function: TextFunction,
        property: Property,
        text: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOperator {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CompareOperator {
    fn from_keyword(keyword: &str) -> Option<Self> {
        Some(match keyword {
            "eq" => Self::Eq,
            "ne" => Self::Ne,
            "gt" => Self::Gt,
            "ge" => Self::Ge,
            "lt" => Self::Lt,
            "le" => Self::Le,
            _ => return None,
        })
    }

    /// The operator with its operands swapped: `'a' lt x` is `x gt 'a'`.
    fn mirrored(self) -> Self {
        match self {
            Self::Gt => Self::Lt,
            Self::Ge => Self::Le,
            Self::Lt => Self::Gt,
            Self::Le => Self::Ge,
            same => same,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFunction {
    StartsWith,
    EndsWith,
    Contains,
}

/// Why an expression was refused, and the 1-based column it went wrong at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    pub message: String,
    pub column: usize,
}

impl FilterError {
    pub fn new(message: impl Into<String>, column: usize) -> Self {
        Self {
            message: message.into(),
            column,
        }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Invalid $filter at column {}: {}.",
            self.column, self.message
        )
    }
}

impl std::error::Error for FilterError {}

impl From<FilterError> for crate::error::ApiError {
    fn from(error: FilterError) -> Self {
        crate::error::ApiError::BadRequest(error.to_string())
    }
}

/// Parses and checks `text`. `include_unknown_enum_members` says whether
/// the request opted in to `remoteAction` members after the sentinel.
pub fn parse(text: &str, include_unknown_enum_members: bool) -> Result<Filter, FilterError> {
    let length = text.chars().count();
    if length > MAX_LENGTH {
        return Err(FilterError::new(
            format!("the expression is {length} characters long; at most {MAX_LENGTH} are allowed"),
            MAX_LENGTH + 1,
        ));
    }

    let mut parser = Parser {
        tokens: tokenize(text)?,
        at: 0,
        depth: 0,
        include_unknown_enum_members,
    };
    let filter = parser.or_expression()?;
    parser.finish()?;
    Ok(filter)
}

/// One side of a comparison, before the comparison gives it a meaning.
#[derive(Debug)]
enum Operand {
    /// A property, maybe wrapped in `tolower`/`toupper`.
    Property(Property),
    Literal {
        literal: TokenKind,
        column: usize,
    },
    /// A text function call, already a predicate.
    Predicate(Filter),
}

/// A cursor over the tokens with the recursive-descent rules.
struct Parser {
    tokens: Vec<Token>,
    at: usize,
    depth: usize,
    include_unknown_enum_members: bool,
}

impl Parser {
    fn peek(&self) -> &Token {
        &self.tokens[self.at.min(self.tokens.len() - 1)]
    }

    fn next_token(&mut self) -> Token {
        let token = self.peek().clone();
        if token.kind != TokenKind::End {
            self.at += 1;
        }
        token
    }

    /// Consumes the keyword if it comes next.
    fn next_is_keyword(&mut self, keyword: &str) -> bool {
        let found = matches!(&self.peek().kind, TokenKind::Identifier(name) if name == keyword);
        if found {
            self.at += 1;
        }
        found
    }

    fn expect(&mut self, kind: TokenKind, what: &str) -> Result<(), FilterError> {
        let token = self.next_token();
        if token.kind == kind {
            return Ok(());
        }
        Err(FilterError::new(
            format!("expected {what}, found {}", describe(&token.kind)),
            token.column,
        ))
    }

    fn finish(&mut self) -> Result<(), FilterError> {
        let token = self.peek();
        match token.kind {
            TokenKind::End => Ok(()),
            ref other => Err(FilterError::new(
                format!(
                    "expected 'and', 'or' or the end of the expression, found {}",
                    describe(other)
                ),
                token.column,
            )),
        }
    }

    /// Enters one level of nesting, refusing to go past [`MAX_DEPTH`].
    fn descend(&mut self, column: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(FilterError::new(
                format!("the expression nests more than {MAX_DEPTH} levels deep"),
                column,
            ));
        }
        Ok(())
    }

    fn or_expression(&mut self) -> Result<Filter, FilterError> {
        let mut parts = vec![self.and_expression()?];
        while self.next_is_keyword("or") {
            parts.push(self.and_expression()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::Any(parts)
        })
    }

    fn and_expression(&mut self) -> Result<Filter, FilterError> {
        let mut parts = vec![self.unary()?];
        while self.next_is_keyword("and") {
            parts.push(self.unary()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Filter::All(parts)
        })
    }

    fn unary(&mut self) -> Result<Filter, FilterError> {
        let column = self.peek().column;
        if self.next_is_keyword("not") {
            self.descend(column)?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Filter::Not(Box::new(inner)));
        }

        if self.peek().kind == TokenKind::OpenParen {
            self.next_token();
            self.descend(column)?;
            let inner = self.or_expression()?;
            self.expect(TokenKind::CloseParen, "')'")?;
            self.depth -= 1;
            return Ok(inner);
        }
        self.predicate()
    }

    fn predicate(&mut self) -> Result<Filter, FilterError> {
        let left = self.operand()?;
        let operator_token = self.peek().clone();
        let keyword = match &operator_token.kind {
            TokenKind::Identifier(name) => name.as_str(),
            _ => "",
        };

        if let Some(operator) = CompareOperator::from_keyword(keyword) {
            self.next_token();
            let right = self.operand()?;
            return self.comparison(left, operator, right, operator_token.column);
        }
        if keyword == "in" {
            self.next_token();
            return self.in_list(left, operator_token.column);
        }
        standalone(left, &operator_token)
    }

    fn operand(&mut self) -> Result<Operand, FilterError> {
        let token = self.next_token();
        let column = token.column;
        let TokenKind::Identifier(name) = token.kind else {
            return match token.kind {
                TokenKind::OpenParen
                | TokenKind::CloseParen
                | TokenKind::Comma
                | TokenKind::End => Err(FilterError::new(
                    format!(
                        "expected a property, a function or a literal, found {}",
                        describe(&token.kind)
                    ),
                    column,
                )),
                literal => Ok(Operand::Literal { literal, column }),
            };
        };

        if self.peek().kind == TokenKind::OpenParen {
            return self.function_call(&name, column);
        }
        match name.as_str() {
            "null" | "true" | "false" => Ok(Operand::Literal {
                literal: TokenKind::Identifier(name),
                column,
            }),
            _ => match Property::from_name(&name) {
                Some(property) => Ok(Operand::Property(property)),
                None => Err(unknown_name(&name, column)),
            },
        }
    }

    fn function_call(&mut self, name: &str, column: usize) -> Result<Operand, FilterError> {
        let function = match name {
            "startswith" => Some(TextFunction::StartsWith),
            "endswith" => Some(TextFunction::EndsWith),
            "contains" => Some(TextFunction::Contains),
            "tolower" | "toupper" => None,
            _ => {
                return Err(FilterError::new(
                    format!("'{name}' is not a supported function"),
                    column,
                ));
            }
        };

        self.next_token();
        self.descend(column)?;
        let subject = self.text_property(name)?;
        let operand = match function {
            None => Operand::Property(subject),
            Some(function) => {
                self.expect(TokenKind::Comma, "','")?;
                let text = self.text_argument(name)?;
                Operand::Predicate(Filter::Text {
                    function,
                    property: subject,
                    text,
                })
            }
        };
        self.expect(TokenKind::CloseParen, "')'")?;
        self.depth -= 1;
        Ok(operand)
    }

    /// A function's first argument: a string property, maybe case-wrapped.
    fn text_property(&mut self, function: &str) -> Result<Property, FilterError> {
        let column = self.peek().column;
        match self.operand()? {
            Operand::Property(property) if property.edm_type() == PropertyType::String => {
                Ok(property)
            }
            Operand::Property(property) => Err(FilterError::new(
                format!(
                    "'{function}' needs a string property, but '{}' is {}",
                    property.name(),
                    type_name(property)
                ),
                column,
            )),
            _ => Err(FilterError::new(
                format!("the first argument of '{function}' must be a string property"),
                column,
            )),
        }
    }

    /// A text function's second argument: a string or GUID literal.
    fn text_argument(&mut self, function: &str) -> Result<String, FilterError> {
        let token = self.next_token();
        match token.kind {
            TokenKind::String(text) | TokenKind::Guid(text) => Ok(fold_case(&text)),
            other => Err(FilterError::new(
                format!(
                    "the second argument of '{function}' must be a string literal, found {}",
                    describe(&other)
                ),
                token.column,
            )),
        }
    }

    fn comparison(
        &self,
        left: Operand,
        operator: CompareOperator,
        right: Operand,
        column: usize,
    ) -> Result<Filter, FilterError> {
        match (left, right) {
            (Operand::Property(property), Operand::Literal { literal, column }) => {
                self.compare(property, operator, &literal, column)
            }
            (Operand::Literal { literal, column }, Operand::Property(property)) => {
                self.compare(property, operator.mirrored(), &literal, column)
            }
            (Operand::Predicate(predicate), Operand::Literal { literal, column })
            | (Operand::Literal { literal, column }, Operand::Predicate(predicate)) => {
                compare_predicate(predicate, operator, &literal, column)
            }
            (Operand::Property(_) | Operand::Predicate(_), _) => Err(FilterError::new(
                "the other side of a comparison must be a literal",
                column,
            )),
            (Operand::Literal { .. }, _) => Err(FilterError::new(
                "one side of a comparison must be a property",
                column,
            )),
        }
    }

    fn compare(
        &self,
        property: Property,
        operator: CompareOperator,
        literal: &TokenKind,
        column: usize,
    ) -> Result<Filter, FilterError> {
        let value = self.value_for(property, literal, column)?;
        let ordering = !matches!(operator, CompareOperator::Eq | CompareOperator::Ne);
        if value == SqlValue::Null && ordering {
            return Err(FilterError::new(
                "null can only be compared with 'eq' or 'ne'",
                column,
            ));
        }
        Ok(Filter::Compare {
            property,
            operator,
            value,
        })
    }

    fn in_list(&mut self, left: Operand, column: usize) -> Result<Filter, FilterError> {
        let Operand::Property(property) = left else {
            return Err(FilterError::new(
                "the left side of 'in' must be a property",
                column,
            ));
        };

        self.expect(TokenKind::OpenParen, "'(' after 'in'")?;
        let mut values = Vec::new();
        loop {
            let token = self.next_token();
            values.push(self.value_for(property, &token.kind, token.column)?);
            if values.len() > MAX_IN_VALUES {
                return Err(FilterError::new(
                    format!("'in' may list at most {MAX_IN_VALUES} values"),
                    token.column,
                ));
            }
            if self.peek().kind != TokenKind::Comma {
                break;
            }
            self.next_token();
        }
        self.expect(TokenKind::CloseParen, "',' or ')'")?;
        Ok(Filter::In { property, values })
    }

    /// The stored form of `literal` as a value of `property`.
    fn value_for(
        &self,
        property: Property,
        literal: &TokenKind,
        column: usize,
    ) -> Result<SqlValue, FilterError> {
        let mismatch = || {
            FilterError::new(
                format!(
                    "'{}' is {} and cannot be compared with {}",
                    property.name(),
                    type_name(property),
                    describe(literal)
                ),
                column,
            )
        };

        match (property.edm_type(), literal) {
            (_, TokenKind::Identifier(name)) if name == "null" => Ok(SqlValue::Null),
            (PropertyType::String, TokenKind::String(text) | TokenKind::Guid(text)) => {
                Ok(SqlValue::Text(fold_case(text)))
            }
            (PropertyType::DateTimeOffset, TokenKind::DateTimeOffset(instant)) => {
                Ok(SqlValue::Integer(instant.ticks()))
            }
            (PropertyType::Enum(enum_type), TokenKind::String(member)) => {
                self.member_value(enum_type, member, column)
            }
            (PropertyType::Enum(enum_type), TokenKind::QualifiedMember { type_name, member }) => {
                if *type_name != enum_type.qualified_name() {
                    return Err(mismatch());
                }
                self.member_value(enum_type, member, column)
            }
            _ => Err(mismatch()),
        }
    }

    fn member_value(
        &self,
        enum_type: &crate::domain::EnumType,
        member: &str,
        column: usize,
    ) -> Result<SqlValue, FilterError> {
        let qualified = enum_type.qualified_name();
        match enum_type.lookup(member, self.include_unknown_enum_members) {
            MemberLookup::Member(value) => Ok(SqlValue::Integer(value)),
            MemberLookup::Sentinel => Err(FilterError::new(
                format!("'unknownFutureValue' of {qualified} cannot be used in a filter"),
                column,
            )),
            MemberLookup::HiddenMember => Err(FilterError::new(
                format!(
                    "'{member}' of {qualified} can only be used with the request header \
                     'Prefer: include-unknown-enum-members'"
                ),
                column,
            )),
            MemberLookup::NotFound => Err(FilterError::new(
                format!("'{member}' is not a member of {qualified}"),
                column,
            )),
        }
    }
}

/// A predicate with no operator after it: a text function or a boolean.
fn standalone(left: Operand, next: &Token) -> Result<Filter, FilterError> {
    match left {
        Operand::Predicate(predicate) => Ok(predicate),
        Operand::Literal {
            literal: TokenKind::Identifier(name),
            ..
        } if name == "true" || name == "false" => Ok(Filter::Constant(name == "true")),
        Operand::Property(property) => Err(FilterError::new(
            format!(
                "expected an operator such as 'eq' after '{}', found {}",
                property.name(),
                describe(&next.kind)
            ),
            next.column,
        )),
        Operand::Literal { literal, column } => Err(FilterError::new(
            format!("{} is not a condition", describe(&literal)),
            column,
        )),
    }
}

/// `startswith(...) eq true` and friends.
fn compare_predicate(
    predicate: Filter,
    operator: CompareOperator,
    literal: &TokenKind,
    column: usize,
) -> Result<Filter, FilterError> {
    let expected = match literal {
        TokenKind::Identifier(name) if name == "true" => true,
        TokenKind::Identifier(name) if name == "false" => false,
        other => {
            return Err(FilterError::new(
                format!(
                    "a function's result is Edm.Boolean and cannot be compared with {}",
                    describe(other)
                ),
                column,
            ));
        }
    };
    match operator {
        CompareOperator::Eq if expected => Ok(predicate),
        CompareOperator::Ne if !expected => Ok(predicate),
        CompareOperator::Eq | CompareOperator::Ne => Ok(Filter::Not(Box::new(predicate))),
        _ => Err(FilterError::new(
            "an Edm.Boolean can only be compared with 'eq' or 'ne'",
            column,
        )),
    }
}

fn unknown_name(name: &str, column: usize) -> FilterError {
    let message = match name {
        "and" | "or" | "not" | "eq" | "ne" | "gt" | "ge" | "lt" | "le" | "in" => {
            format!("expected a property, a function or a literal, found '{name}'")
        }
        _ => format!("'{name}' is not a property of microsoft.graph.remoteActionAudit"),
    };
    FilterError::new(message, column)
}

fn type_name(property: Property) -> String {
    match property.edm_type() {
        PropertyType::String => "an Edm.String".to_owned(),
        PropertyType::DateTimeOffset => "an Edm.DateTimeOffset".to_owned(),
        PropertyType::Enum(enum_type) => format!("a {}", enum_type.qualified_name()),
    }
}

/// A token as an error message names it.
fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::OpenParen => "'('".to_owned(),
        TokenKind::CloseParen => "')'".to_owned(),
        TokenKind::Comma => "','".to_owned(),
        TokenKind::Identifier(name) if name == "null" => "null".to_owned(),
        TokenKind::Identifier(name) if name == "true" || name == "false" => {
            format!("the Edm.Boolean {name}")
        }
        TokenKind::Identifier(name) => format!("'{name}'"),
        TokenKind::String(text) => format!("the string '{}'", text.replace('\'', "''")),
        TokenKind::QualifiedMember { type_name, member } => {
            format!("the member {type_name}'{member}'")
        }
        TokenKind::Guid(text) => format!("the GUID {text}"),
        TokenKind::DateTimeOffset(instant) => format!("the Edm.DateTimeOffset {instant}"),
        TokenKind::Number(text) => format!("the number {text}"),
        TokenKind::End => "the end of the expression".to_owned(),
    }
}

#[cfg(test)]
mod tests;
