"""Shopper guarantees that are kept, with their money in the ledger (DESIGN: "user first").

- `credit`           pay later (先用后付): a credit profile per shopper (score, limit, standing), billing at
                     delivery confirmation or N days after delivery, dunning, overdue.
- `price_protection` 7-day price protection (价保): the largest drop of a line's final price within the
                     window, refunded once; merchant- or platform-funded by who cut the price.
- `return_cover`     return-shipping cover (退货补运费): a covered return's postage paid out, funded by a
                     per-order cover fee (merchant) or by the platform for new merchants.
- `badges`           which guarantees apply, now, to this shopper, SKU and store: a badge only where honoured.

Layer: above payments (it books payouts and receivables through the ledger) and below checkout and flows
(which call it when an order is placed, paid, delivered or refunded).
"""
