package afi

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/servicequotas"
)

// Service Quotas names of the AFI quota: EC2's "Amazon FPGA images (AFIs)",
// the AFIs an account may own in a region (Amazon EC2 endpoints and
// quotas, https://docs.aws.amazon.com/general/latest/gr/ec2-service.html).
const (
	QuotaService = "ec2"
	QuotaCodeAFI = "L-8FBBDF0C"
)

// QuotaTimeout bounds the Service Quotas lookup of one region: it is asked
// once, not retried, so that a caller without servicequotas:GetServiceQuota
// (or an endpoint that does not answer it) costs the run little.
const QuotaTimeout = 5 * time.Second

// AFIQuota asks Service Quotas (GetServiceQuota, ServiceCode ec2, QuotaCode
// L-8FBBDF0C) how many AFIs the account may own in region. Any error
// (AccessDenied, no such quota, no answer within QuotaTimeout) is returned
// for the caller to fall back on its own number.
func (c *Client) AFIQuota(ctx context.Context, region string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, QuotaTimeout)
	defer cancel()
	cl := servicequotas.NewFromConfig(c.cfg, func(o *servicequotas.Options) {
		o.Region = region
		o.RetryMaxAttempts = 1
	})
	out, err := cl.GetServiceQuota(ctx, &servicequotas.GetServiceQuotaInput{
		ServiceCode: aws.String(QuotaService), QuotaCode: aws.String(QuotaCodeAFI),
	})
	if err != nil {
		return 0, err
	}
	if out.Quota == nil || out.Quota.Value == nil || *out.Quota.Value < 1 {
		return 0, errors.New("service quota " + QuotaCodeAFI + " has no value")
	}
	return int(*out.Quota.Value), nil
}
