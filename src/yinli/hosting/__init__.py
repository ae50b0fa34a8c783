"""Sales hosting (销售托管) and the best-price channel (优选). So far: the product matcher
(`offers` → `features` → `matcher`, trained by `training`), which decides whether an external offer and a
yinli product are one product, with a calibrated probability and its evidence."""
