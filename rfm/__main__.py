import sys

from rfm.cli import main

sys.exit(main())
