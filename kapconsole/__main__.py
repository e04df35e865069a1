import sys

from kapconsole.cli import main

sys.exit(main())
