"""Records from each shop pair of the shared data (`../shared/data/product_matching/*/train.txt`), copied
here so the tests that parse them run without it."""

ABT = (
    "COL name VAL panasonic lm-af30u3 three pack of single-sided 30 minute dvd-ram discs lmaf30u3 "
    "COL description VAL panasonic lm-af30u3 three pack of single-sided 30 minute dvd-ram discs lmaf30u3 "
    "compatible with dvd camcorder , dvd video recorders and dvd-ram drives 1.4 gb data capacity COL price VAL 8.99 "
)
BUY = "COL name VAL panasonic dvd-ram media lm-af30u3 COL description VAL 1.4 gb 3 pack COL price VAL 6.22 "
ABT_DISHWASHER = (
    "COL name VAL lg 24 ' lds4821ww semi integrated built in white dishwasher lds4821wh COL description VAL lg 24 ' "
    "lds4821ww semi integrated built in white dishwasher COL price VAL  "
)
AMAZON = "COL title VAL chessmaster 9000 ( mac ) COL manufacturer VAL feral interactive COL price VAL 39.99 "
GOOGLE = "COL title VAL chessmaster 9000 : feral interactive COL manufacturer VAL  COL price VAL 38.99 "
WALMART = (
    "COL title VAL xerox 108r00645 imaging unit for phaser 6300 and 6350 printer COL category VAL printers "
    "COL brand VAL xerox COL modelno VAL 108r00645 COL price VAL 244.84 "
)
AMAZON_XEROX = (
    "COL title VAL xerox printers imaging unit phaser 6300 6350 108 r00645 COL category VAL printer ink toner "
    "COL brand VAL xerox COL modelno VAL  COL price VAL 253.79 "
)
UNRELATED = (
    "COL title VAL georgia bulldogs iphone 4 case silicone cover COL category VAL computers accessories "
    "COL brand VAL tribeca COL modelno VAL  COL price VAL 17.99 "
)
